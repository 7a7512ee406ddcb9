//! Hears on PostgreSQL of the changes other processes commit, and moves this process's
//! generations (see the module above), so its cache stops serving what they changed.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::{CHANNEL, Generations, Scope};
use crate::db::replicas::Fence;

/// How often the connection is read. Notifications wait in the socket meanwhile, so this is
/// the longest a change made elsewhere goes unnoticed.
const POLL: Duration = Duration::from_millis(100);
/// How often the connection is proven alive with a query, since a silently dropped one
/// would otherwise just stay quiet.
const PROBE: Duration = Duration::from_secs(5);
const RECONNECT: Duration = Duration::from_secs(1);

/// Starts listening, then hands the connection to a thread of its own. Listening starts
/// before this returns, so no change committed after the server starts goes unheard. The
/// thread ends by itself once the generations are dropped (the application state is gone).
///
/// With read replicas, `fence` is moved to the primary's WAL position before the generations
/// move for a change heard of, so no replica behind that change serves an answer the cache
/// keeps as current (see [`crate::db::replicas`]).
pub fn start(url: String, changes: &Arc<Generations>, fence: Option<Arc<Fence>>) -> std::io::Result<()> {
    let first = connect(&url)
        .inspect_err(|e| tracing::warn!(error = %e, "cannot listen for cache notifications yet; retrying"))
        .ok();
    let changes = Arc::downgrade(changes);
    std::thread::Builder::new()
        .name("cache-listener".into())
        .spawn(move || run(&url, first, &changes, fence.as_deref()))
        .map(drop)
}

fn connect(url: &str) -> ConnectionResult<PgConnection> {
    let mut conn = PgConnection::establish(url)?;
    conn.batch_execute(&format!("LISTEN {CHANNEL}"))
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

fn run(url: &str, first: Option<PgConnection>, changes: &Weak<Generations>, fence: Option<&Fence>) {
    if let Some(mut conn) = first {
        match listen(&mut conn, changes, fence) {
            Ok(()) => return,
            Err(e) => tracing::warn!(error = %e, "cache notifications lost; reconnecting"),
        }
    }
    while changes.strong_count() > 0 {
        std::thread::sleep(RECONNECT);
        match connect(url) {
            Ok(mut conn) => {
                // Whatever other processes changed while nobody here was listening is unknown.
                if let Some(changes) = changes.upgrade() {
                    if let Some(fence) = fence {
                        fence.advance_on(&mut conn);
                    }
                    changes.bump_all();
                }
                match listen(&mut conn, changes, fence) {
                    Ok(()) => return,
                    Err(e) => tracing::warn!(error = %e, "cache notifications lost; reconnecting"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for cache notifications; retrying"),
        }
    }
}

/// Applies notifications until the generations are dropped (`Ok`) or the connection fails.
fn listen(conn: &mut PgConnection, changes: &Weak<Generations>, fence: Option<&Fence>) -> QueryResult<()> {
    let mut probed = Instant::now();
    loop {
        std::thread::sleep(POLL);
        let Some(changes) = changes.upgrade() else {
            return Ok(());
        };
        // `None`: from a newer version that knows scopes this one does not; safest to drop all.
        let mut heard: Vec<Option<Scope>> = Vec::new();
        for notification in conn.notifications_iter() {
            match Scope::parse(&notification?.payload) {
                // This process applied its own changes when their transactions ended.
                Some((_, origin)) if origin == changes.origin() => {}
                Some((scope, _)) => heard.push(Some(scope)),
                None => heard.push(None),
            }
        }
        if !heard.is_empty()
            && let Some(fence) = fence
        {
            fence.advance_on(conn);
        }
        for scope in heard {
            match scope {
                Some(scope) => changes.bump(scope),
                None => changes.bump_all(),
            }
        }
        if probed.elapsed() >= PROBE {
            conn.batch_execute("SELECT 1")?;
            probed = Instant::now();
        }
    }
}
