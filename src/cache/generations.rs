//! Generation numbers: what a cached answer, or anything else kept in memory from the
//! database, was read under, and how every write that changes what readers see moves them
//! (see the module above for the whole scheme).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use diesel::prelude::*;

use crate::db::{Database, Db};

/// The channel of cache notifications on PostgreSQL.
pub const CHANNEL: &str = "newsdesk_cache";

/// What a write changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Anything readers see of articles, authors and taxonomy: lists, pages, feeds.
    Content,
    /// The approved comments of one article.
    Comments(i64),
}

impl Scope {
    /// `content@<origin>` or `comments:<id>@<origin>`: the origin tells a process its own
    /// notifications, which it has already applied.
    pub(super) fn payload(self, origin: u64) -> String {
        match self {
            Scope::Content => format!("content@{origin:x}"),
            Scope::Comments(id) => format!("comments:{id}@{origin:x}"),
        }
    }

    pub(super) fn parse(payload: &str) -> Option<(Scope, u64)> {
        let (scope, origin) = payload.split_once('@')?;
        let origin = u64::from_str_radix(origin, 16).ok()?;
        let scope = match scope.split_once(':') {
            None if scope == "content" => Scope::Content,
            Some(("comments", id)) => Scope::Comments(id.parse().ok()?),
            _ => return None,
        };
        Some((scope, origin))
    }
}

/// The generations of the process that owns `db`, moved by every change its calls commit.
/// Their origin is the database handle's id, which the connections it hands out put in their
/// notifications.
pub fn follow(db: &Database) -> Arc<Generations> {
    let changes = Arc::new(Generations::new(db.id()));
    let bumped = changes.clone();
    // After the call, never inside it: an answer built from the old data meanwhile must not
    // be stamped with the new generation.
    db.on_commit(move |scopes: Vec<Scope>| {
        let mut seen = Vec::with_capacity(scopes.len());
        for scope in scopes {
            if !seen.contains(&scope) {
                seen.push(scope);
                bumped.bump(scope);
            }
        }
    });
    changes
}

mod pg_functions {
    diesel::define_sql_function! {
        /// Queues a notification, delivered when the transaction commits (and never if it
        /// rolls back). Returns `void`, which is never read.
        fn pg_notify(channel: diesel::sql_types::Text, payload: diesel::sql_types::Text) -> diesel::sql_types::Bool;
    }
}

/// Records that the current transaction changes `scope`. Call it inside the transaction of
/// the write: this process's generations move only if it commits. On PostgreSQL it also
/// notifies every process at commit.
pub fn changed(conn: &mut Db, scope: Scope) -> QueryResult<()> {
    // A connection opened outside a server (start-up, command-line tools) sends origin 0,
    // which every process applies.
    let origin = crate::db::effects::database_id(conn).unwrap_or(0);
    if let Db::Pg(pg) = conn {
        // Identical notifications of one transaction are delivered once.
        diesel::select(pg_functions::pg_notify(CHANNEL, scope.payload(origin))).execute(pg)?;
    }
    crate::db::effects::record(conn, scope);
    Ok(())
}

/// Generation numbers of the scopes, for one process.
#[derive(Debug)]
pub struct Generations {
    /// Tells this process's notifications from other processes' (see [`Database::id`]).
    origin: u64,
    /// Moves when everything must go: the notification connection was lost, so changes made
    /// meanwhile by other processes are unknown.
    epoch: AtomicU64,
    content: AtomicU64,
    /// Threads that never changed are absent (generation 0). Entries are never removed: a
    /// generation that went back to 0 would make old entries look current again. One entry
    /// per article whose thread ever changed while this process ran is a few MB at most.
    comments: RwLock<HashMap<i64, u64>>,
}

/// The generations an answer was built under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    epoch: u64,
    content: u64,
    comments: Option<(i64, u64)>,
}

impl Generations {
    /// Generations of a process whose notifications carry `origin`.
    pub fn new(origin: u64) -> Self {
        Generations {
            origin,
            epoch: AtomicU64::new(0),
            content: AtomicU64::new(0),
            comments: RwLock::default(),
        }
    }

    pub fn origin(&self) -> u64 {
        self.origin
    }

    /// Read before reading the database for an answer.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            epoch: self.epoch.load(Ordering::Acquire),
            content: self.content.load(Ordering::Acquire),
            comments: None,
        }
    }

    /// `stamp`, also depending on the comments of `article_id`. Call it before reading them.
    pub fn with_comments(&self, stamp: Stamp, article_id: i64) -> Stamp {
        Stamp {
            comments: Some((article_id, self.comments_generation(article_id))),
            ..stamp
        }
    }

    fn comments_generation(&self, article_id: i64) -> u64 {
        let map = self.comments.read().unwrap_or_else(|p| p.into_inner());
        map.get(&article_id).copied().unwrap_or(0)
    }

    pub fn is_current(&self, stamp: &Stamp) -> bool {
        stamp.epoch == self.epoch.load(Ordering::Acquire)
            && stamp.content == self.content.load(Ordering::Acquire)
            && stamp
                .comments
                .is_none_or(|(id, generation)| self.comments_generation(id) == generation)
    }

    pub fn bump(&self, scope: Scope) {
        match scope {
            Scope::Content => {
                self.content.fetch_add(1, Ordering::AcqRel);
            }
            Scope::Comments(id) => {
                let mut map = self.comments.write().unwrap_or_else(|p| p.into_inner());
                *map.entry(id).or_insert(0) += 1;
            }
        }
    }

    pub fn bump_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_survive_the_notification_payload() {
        for scope in [Scope::Content, Scope::Comments(42)] {
            assert_eq!(Scope::parse(&scope.payload(0xabc)), Some((scope, 0xabc)));
        }
        assert_eq!(Scope::parse("comments:x@1"), None);
        assert_eq!(Scope::parse("content"), None);
        assert_eq!(Scope::parse("other@1"), None);
    }

    #[test]
    fn a_stamp_taken_before_a_change_is_never_current_again() {
        let g = Generations::new(1);
        let before = g.stamp();
        let thread = g.with_comments(before, 7);
        let other = g.with_comments(before, 8);
        assert!(g.is_current(&thread));
        g.bump(Scope::Comments(7));
        assert!(!g.is_current(&thread));
        assert!(g.is_current(&other), "another thread's answer stays");
        assert!(g.is_current(&before));
        g.bump(Scope::Content);
        assert!(!g.is_current(&before));
        let now = g.stamp();
        g.bump_all();
        assert!(!g.is_current(&now));
    }
}
