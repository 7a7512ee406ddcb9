//! Read replicas: public reads served by PostgreSQL streaming standbys of the primary.
//!
//! `NEWSDESK_DATABASE_REPLICA_URLS` names the standbys. [`Database::read`](super::Database::read),
//! which the handlers of public GETs use, runs on one of them when one is usable and on the
//! primary otherwise; writes, editorial reads and everything else run on the primary.
//!
//! # When a replica may answer
//!
//! A standby replays the primary's WAL some time after the primary wrote it. Two rules decide
//! whether it may answer a read; both must hold.
//!
//! 1. **Lag.** A monitor thread per replica asks, every [`MONITOR_EVERY`], the primary where
//!    its WAL ends (`pg_current_wal_lsn()`), then the replica how far it has replayed
//!    (`pg_last_wal_replay_lsn()`). It keeps the primary's recent positions with the time each
//!    was seen: the replica's lag is the age of the newest primary position it has replayed.
//!    Unlike `now() - pg_last_xact_replay_timestamp()`, which grows without end on an idle
//!    primary where there is nothing to replay, this is about 0 whenever the replica has
//!    everything, and otherwise an upper bound of how long ago the primary was where the
//!    replica is. A replica more than `NEWSDESK_REPLICA_MAX_LAG` behind, counting the time
//!    since it was measured (a monitor that stalls must not leave an old "caught up" behind),
//!    or whose lag is not known (not yet measured, or the primary has not answered the
//!    monitor lately), is skipped.
//! 2. **Changes this process knows of.** The response cache keeps an answer until a change
//!    moves the generation it was built under ([`crate::cache`]). An answer built after the
//!    move is kept under the new generation: were it read from a replica that has not yet
//!    replayed the change, the old content would be cached as current and served until the
//!    next change, however small the lag. So every change this process learns of (its own
//!    commits, and other processes' through the cache listener, which listens on the primary)
//!    first moves the [`Fence`] to the primary's WAL insert position at that moment, which is
//!    past the change's commit record, and only then moves the generation. A read uses a
//!    replica only if the replay position the monitor last saw there is at or past the
//!    fence; replay positions only grow, so the replica has at least that much when the query
//!    runs. An answer is stamped with generations read before the fence (see
//!    [`crate::cache::ResponseCache::serve`]), so one stamped after a change was read from data
//!    that includes it. A comment thread's generation is read during the read itself, after
//!    the fence; so the fence is read again once the read is done, and an answer from a
//!    replica that a change has overtaken meanwhile is dropped and read again from the
//!    primary.
//!
//!    The insert position rather than the write position (`pg_current_wal_lsn()`), because
//!    with `synchronous_commit = off` a commit returns before its record is written.
//!
//! When the fence cannot be moved (the primary's connection failed right after a commit),
//! and from start until a monitor has asked the primary once, replicas serve nothing: the next
//! position a monitor takes from the primary is past every change until then.
//!
//! # Failures
//!
//! A replica that refuses connections, or whose connection fails during a read, is marked
//! down and the read runs again on another usable replica or on the primary, so readers never
//! see its failure. A read the replica failed for its own reasons (a query cancelled by a
//! conflict with recovery) also runs again on the primary, without marking the replica down.
//! The monitor marks a replica up once it answers as a standby again; the two rules above then
//! decide when it serves. Readiness (`/readyz`) asks only the primary.

use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::r2d2;
use diesel::sql_types::BigInt;
use prometheus::{GaugeVec, IntCounterVec, IntGaugeVec, Opts};

mod monitor;

use super::breaker::Breaker;
use super::{Backend, Db, DbManager, DbUrl, Pool, PooledDb};
use crate::error::ApiError;

/// How often each replica and the primary are asked for their WAL positions: how long a
/// replica that has caught up goes unused after a change, and after an outage.
pub const MONITOR_EVERY: Duration = Duration::from_millis(200);

/// How long a read waits for a connection of a busy replica before it goes elsewhere.
const WAIT_FOR_CONNECTION: Duration = Duration::from_millis(100);

pub const DEFAULT_MAX_LAG: u64 = 5;
const MAX_LAG_SECONDS: RangeInclusive<u64> = 1..=3600;
const MAX_REPLICAS: usize = 16;

const URLS_VARIABLE: &str = "NEWSDESK_DATABASE_REPLICA_URLS";
const LAG_VARIABLE: &str = "NEWSDESK_REPLICA_MAX_LAG";

/// The replicas to read from and how far behind they may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaSettings {
    pub urls: Vec<DbUrl>,
    pub max_lag: Duration,
}

impl Default for ReplicaSettings {
    fn default() -> Self {
        ReplicaSettings {
            urls: Vec::new(),
            max_lag: Duration::from_secs(DEFAULT_MAX_LAG),
        }
    }
}

impl ReplicaSettings {
    /// Checks the settings against the primary; an error names the variable at fault.
    pub fn parse(primary: &DbUrl, urls: &[String], max_lag: u64) -> Result<Self, (&'static str, String)> {
        if !MAX_LAG_SECONDS.contains(&max_lag) {
            return Err((
                LAG_VARIABLE,
                format!(
                    "must be between {} and {} seconds",
                    MAX_LAG_SECONDS.start(),
                    MAX_LAG_SECONDS.end()
                ),
            ));
        }
        let mut parsed: Vec<DbUrl> = Vec::new();
        for raw in urls.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
            let url = DbUrl::parse(raw).map_err(|e| (URLS_VARIABLE, e.to_string()))?;
            if url.backend() != Backend::Postgres {
                return Err((
                    URLS_VARIABLE,
                    format!("`{url}` is not a PostgreSQL URL; replicas are PostgreSQL streaming standbys"),
                ));
            }
            if url == *primary {
                return Err((
                    URLS_VARIABLE,
                    format!("`{url}` is NEWSDESK_DATABASE_URL itself; list the primary's standbys"),
                ));
            }
            if parsed.contains(&url) {
                return Err((URLS_VARIABLE, format!("`{url}` is listed twice")));
            }
            parsed.push(url);
        }
        if !parsed.is_empty() && primary.backend() != Backend::Postgres {
            return Err((
                URLS_VARIABLE,
                "read replicas need a PostgreSQL primary, but NEWSDESK_DATABASE_URL is SQLite".into(),
            ));
        }
        if parsed.len() > MAX_REPLICAS {
            return Err((URLS_VARIABLE, format!("at most {MAX_REPLICAS} replicas")));
        }
        Ok(ReplicaSettings {
            urls: parsed,
            max_lag: Duration::from_secs(max_lag),
        })
    }
}

/// The newest primary WAL position at which this process knows of a change (rule 2 of the
/// module documentation).
#[derive(Debug)]
pub struct Fence {
    newest: AtomicU64,
    /// Times the fence could not be moved; replicas serve nothing while this is ahead of
    /// `regained`.
    lost: AtomicU64,
    /// The value of `lost` a monitor last saw before it took a position from the primary.
    regained: AtomicU64,
}

impl Fence {
    fn new() -> Self {
        // Lost from the start: changes committed before this process listened for them are
        // covered only once a monitor has asked the primary.
        Fence {
            newest: AtomicU64::new(0),
            lost: AtomicU64::new(1),
            regained: AtomicU64::new(0),
        }
    }

    /// The position a replica must have replayed, or `None` when none may serve.
    fn required(&self) -> Option<u64> {
        (self.regained.load(Ordering::SeqCst) >= self.lost.load(Ordering::SeqCst))
            .then(|| self.newest.load(Ordering::SeqCst))
    }

    /// Moves the fence past every change committed so far on the primary `conn` is connected
    /// to. Call it after a change has committed and before the generations move.
    pub fn advance_on(&self, conn: &mut PgConnection) {
        match insert_position(conn) {
            Ok(position) => {
                self.newest.fetch_max(position, Ordering::SeqCst);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the primary's WAL position after a change; \
                    reading from the primary until a replica monitor reaches it");
                self.lost.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// A monitor took `position` from the primary after it saw `lost` failures. Only a loss
    /// moves the fence here: moving it on every look would hold replicas to the primary's
    /// latest position instead of to the changes this process knows of and the lag.
    fn regain(&self, lost: u64, position: u64) {
        if self.regained.load(Ordering::SeqCst) < lost {
            self.newest.fetch_max(position, Ordering::SeqCst);
            self.regained.fetch_max(lost, Ordering::SeqCst);
        }
    }
}

fn position(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Where the primary's WAL ends, counting every record inserted so far, committed or not.
///
/// `pg_current_wal_insert_lsn()` points past the page header when the last record ended
/// exactly at a page boundary (as after every WAL segment switch), a position replay reaches
/// only once another record follows; the boundary itself, where replay stops, covers the same
/// records. The headers are 24 bytes, 40 at the start of a segment.
const INSERT_POSITION: &str = "(SELECT CASE \
    WHEN l % pg_size_bytes(current_setting('wal_segment_size')) = 40 THEN l - 40 \
    WHEN l % current_setting('wal_block_size')::bigint = 24 THEN l - 24 \
    ELSE l END \
    FROM (SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint AS l) AS inserted)";

fn insert_position(conn: &mut PgConnection) -> QueryResult<u64> {
    diesel::select(sql::<BigInt>(INSERT_POSITION))
        .get_result(conn)
        .map(position)
}

/// Lag in milliseconds when it is not known.
const UNKNOWN: u64 = u64::MAX;

struct Replica {
    /// `replica-1`, `replica-2`, … in the order of the setting: the metrics' label.
    name: String,
    url: DbUrl,
    pool: Pool,
    /// Open while the replica is down: set by a failed connection or read, closed by the
    /// monitor only.
    down: Arc<Breaker>,
    /// The replay position the monitor last saw.
    replayed: AtomicU64,
    /// The lag the monitor last measured, and when (milliseconds since the replicas were
    /// set up): an observation ages, so the replica may be that much further behind now.
    lag_ms: AtomicU64,
    observed_ms: AtomicU64,
    /// Reads running on it, to prefer the least busy.
    busy: AtomicUsize,
    /// Whether it was last seen further behind than allowed, to log each change once.
    lagging: AtomicBool,
}

impl Replica {
    /// Its last observed replay position, when it may serve a read that must see `required`.
    fn usable(&self, required: u64, max_lag_ms: u64, now_ms: u64) -> Option<u64> {
        let age = now_ms.saturating_sub(self.observed_ms.load(Ordering::SeqCst));
        let lag = self.lag_ms.load(Ordering::SeqCst).saturating_add(age);
        let replayed = self.replayed.load(Ordering::SeqCst);
        (!self.down.is_open() && lag <= max_lag_ms && replayed >= required).then_some(replayed)
    }

    fn mark_down(&self, why: &dyn std::fmt::Display) {
        if !self.down.is_open() {
            tracing::warn!(replica = %self.name, url = %self.url, error = %why,
                "read replica failed; reading from the primary until it is back");
        }
        self.down.trip();
    }
}

/// Counts a read in flight on a replica for as long as it lives.
struct Busy<'a>(&'a AtomicUsize);

impl<'a> Busy<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Busy(count)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The Prometheus metrics of reads and replicas, registered with the process's others.
#[derive(Clone)]
pub struct ReplicaMetrics {
    /// Public reads by where they were served: `primary`, `replica-1`, …
    pub reads: IntCounterVec,
    /// 1 while a replica answers as a standby, 0 while it is down.
    pub up: IntGaugeVec,
    /// A replica's lag as last measured, NaN when unknown.
    pub lag: GaugeVec,
}

impl ReplicaMetrics {
    fn new() -> prometheus::Result<Self> {
        Ok(ReplicaMetrics {
            reads: IntCounterVec::new(
                Opts::new(
                    "newsdesk_db_public_reads_total",
                    "Public reads by the database that served them: primary or replica-N.",
                ),
                &["served_by"],
            )?,
            up: IntGaugeVec::new(
                Opts::new(
                    "newsdesk_db_replica_up",
                    "1 while a read replica answers as a standby, 0 while it is down.",
                ),
                &["replica"],
            )?,
            lag: GaugeVec::new(
                Opts::new(
                    "newsdesk_db_replica_lag_seconds",
                    "How far a read replica is behind the primary, as last measured (NaN when unknown).",
                ),
                &["replica"],
            )?,
        })
    }
}

/// The read replicas of one process.
pub struct Replicas {
    replicas: Vec<Replica>,
    fence: Arc<Fence>,
    max_lag: Duration,
    primary: DbUrl,
    /// Where the next read starts looking, so equally busy replicas take turns.
    next: AtomicUsize,
    /// What the replicas' observation times count from.
    epoch: Instant,
    metrics: ReplicaMetrics,
}

impl std::fmt::Debug for Replicas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.replicas.iter().map(|r| &r.url))
            .finish()
    }
}

impl Replicas {
    /// The replicas' pools, built without waiting for connections; `None` without replicas.
    /// Nothing is read from them until [`watch`](Self::watch) has started their monitors.
    pub fn new(
        primary: &DbUrl,
        settings: &ReplicaSettings,
        pool_size: u32,
        database: u64,
    ) -> prometheus::Result<Option<Arc<Self>>> {
        if settings.urls.is_empty() {
            return Ok(None);
        }
        let metrics = ReplicaMetrics::new()?;
        metrics.reads.with_label_values(&["primary"]);
        let replicas = settings
            .urls
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let name = format!("replica-{}", i + 1);
                metrics.reads.with_label_values(&[name.as_str()]);
                metrics.up.with_label_values(&[name.as_str()]).set(0);
                metrics.lag.with_label_values(&[name.as_str()]).set(f64::NAN);
                let down = Breaker::without_prober(url.clone());
                // Public reads are most of the traffic, so a replica gets as many connections
                // as the primary; a read finding them all busy goes elsewhere at once.
                let pool = r2d2::Pool::builder()
                    .max_size(pool_size)
                    .min_idle(Some(1))
                    .connection_timeout(super::POOL_RECONNECT_TIMEOUT)
                    .test_on_check_out(true)
                    .build_unchecked(DbManager {
                        url: monitor::watched(url, false),
                        breaker: down.clone(),
                        database,
                        // Replicas are PostgreSQL.
                        sqlite_mmap: 0,
                    });
                Replica {
                    name,
                    url: url.clone(),
                    pool,
                    down,
                    replayed: AtomicU64::new(0),
                    lag_ms: AtomicU64::new(UNKNOWN),
                    observed_ms: AtomicU64::new(0),
                    busy: AtomicUsize::new(0),
                    lagging: AtomicBool::new(false),
                }
            })
            .collect();
        Ok(Some(Arc::new(Replicas {
            replicas,
            fence: Arc::new(Fence::new()),
            max_lag: settings.max_lag,
            primary: primary.clone(),
            next: AtomicUsize::new(0),
            epoch: Instant::now(),
            metrics,
        })))
    }

    /// Starts one monitor thread per replica. Call it once this process listens for other
    /// processes' changes: the first position a monitor takes from the primary then covers
    /// every change this process will not hear of. The threads end once the replicas are
    /// dropped.
    pub fn watch(self: &Arc<Self>) -> std::io::Result<()> {
        for index in 0..self.replicas.len() {
            let replicas = Arc::downgrade(self);
            std::thread::Builder::new()
                .name(format!("newsdesk-replica-{}", index + 1))
                .spawn(move || monitor::monitor(&replicas, index))?;
        }
        Ok(())
    }

    pub fn fence(&self) -> &Arc<Fence> {
        &self.fence
    }

    pub fn metrics(&self) -> &ReplicaMetrics {
        &self.metrics
    }

    /// Runs `f` on a usable replica, the least busy first. `Err(f)` hands it back when no
    /// replica may or could answer, for the primary to run.
    pub(super) fn read<F, T>(&self, f: F) -> Result<Result<T, ApiError>, F>
    where
        F: FnOnce(&mut Db) -> Result<T, ApiError> + Clone,
    {
        let Some(required) = self.fence.required() else {
            return Err(f);
        };
        let max_lag_ms = u64::try_from(self.max_lag.as_millis()).unwrap_or(u64::MAX - 1);
        let now_ms = self.now_ms();
        let count = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut candidates: Vec<(&Replica, u64)> = (0..count)
            .map(|k| &self.replicas[(start + k) % count])
            .filter_map(|r| Some((r, r.usable(required, max_lag_ms, now_ms)?)))
            .collect();
        // Stable: equally busy replicas stay in turn order.
        candidates.sort_by_key(|(r, _)| r.busy.load(Ordering::Relaxed));
        for (replica, replayed) in candidates {
            let Some(mut conn) = checkout(replica) else {
                continue;
            };
            let _busy = Busy::new(&replica.busy);
            match (f.clone())(&mut conn.conn) {
                Err(e @ (ApiError::Unavailable(_) | ApiError::Internal(_))) => {
                    use diesel::connection::SimpleConnection;
                    // A connection that still answers means the replica refused this query
                    // (a conflict with recovery cancels queries on a standby), not that it is
                    // down; either way the primary answers instead.
                    if conn.conn.batch_execute("SELECT 1").is_err() {
                        replica.mark_down(&e);
                    } else {
                        tracing::debug!(replica = %replica.name, error = %e, "a replica failed a read; asking the primary");
                    }
                }
                result => {
                    conn.last_ok = Instant::now();
                    // Generations read inside `f` (a comment thread's) were read after the
                    // fence above; a change announced since moved the fence first. The answer
                    // is kept only if the replica had that change too.
                    if self.fence.required().is_none_or(|required| required > replayed) {
                        return Err(f);
                    }
                    self.metrics
                        .reads
                        .with_label_values(&[replica.name.as_str()])
                        .inc();
                    return Ok(result);
                }
            }
        }
        Err(f)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Counts a public read served by the primary.
    pub(super) fn served_by_primary(&self) {
        self.metrics.reads.with_label_values(&["primary"]).inc();
    }
}

/// A connection of `replica`, unless it is down or all of its connections stay busy for
/// [`WAIT_FOR_CONNECTION`].
fn checkout(replica: &Replica) -> Option<PooledDb> {
    if replica.down.is_open() {
        return None;
    }
    replica.pool.get_timeout(WAIT_FOR_CONNECTION).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primary() -> DbUrl {
        DbUrl::Postgres("postgres://db/news".into())
    }

    fn parse(urls: &[&str], lag: u64) -> Result<ReplicaSettings, (&'static str, String)> {
        let urls: Vec<String> = urls.iter().map(|u| (*u).to_owned()).collect();
        ReplicaSettings::parse(&primary(), &urls, lag)
    }

    #[test]
    fn replicas_are_postgresql_standbys_of_a_postgresql_primary() {
        let ok =
            parse(&["postgres://r1/news", " postgres://r2/news ", ""], 5).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.urls.len(), 2);
        assert_eq!(ok.max_lag, Duration::from_secs(5));
        for (urls, lag, variable) in [
            (&["sqlite://x.db"][..], 5, URLS_VARIABLE),
            (&["postgres://db/news"][..], 5, URLS_VARIABLE),
            (
                &["postgres://r1/news", "postgres://r1/news"][..],
                5,
                URLS_VARIABLE,
            ),
            (&["mysql://r1/news"][..], 5, URLS_VARIABLE),
            (&["postgres://r1/news"][..], 0, LAG_VARIABLE),
            (&["postgres://r1/news"][..], 3601, LAG_VARIABLE),
        ] {
            let refused = parse(urls, lag).err().map(|(v, _)| v);
            assert_eq!(refused, Some(variable), "{urls:?} with a lag of {lag}");
        }
        let sqlite = DbUrl::Sqlite("news.db".into());
        let refused = ReplicaSettings::parse(&sqlite, &["postgres://r1/news".into()], 5);
        assert!(refused.is_err_and(|(_, why)| why.contains("PostgreSQL primary")));
        assert!(ReplicaSettings::parse(&sqlite, &[], 5).is_ok());
    }

    #[test]
    fn a_lost_fence_holds_until_a_monitor_regains_it() {
        let fence = Fence::new();
        assert_eq!(fence.required(), None, "nothing before the first monitor");
        fence.regain(1, 100);
        assert_eq!(fence.required(), Some(100));
        fence.regain(1, 150);
        assert_eq!(fence.required(), Some(100), "only a loss is regained");
        fence.newest.fetch_max(50, Ordering::SeqCst);
        assert_eq!(fence.required(), Some(100), "never moves back");
        fence.lost.fetch_add(1, Ordering::SeqCst);
        assert_eq!(fence.required(), None);
        // A monitor that looked before the loss does not lift it.
        fence.regain(1, 200);
        assert_eq!(fence.required(), None);
        fence.regain(2, 300);
        assert_eq!(fence.required(), Some(300));
    }
}
