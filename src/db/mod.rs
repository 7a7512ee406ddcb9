//! The store: one connection type over both backends, a pool, and the helper that runs
//! diesel work on the blocking thread pool so actix workers never wait on the database.

pub mod breaker;
pub mod decode;
pub mod direct;
pub mod effects;
pub mod ids;
pub mod migrate;
pub mod quick;
pub mod raw;
pub mod replicas;
pub mod schema;
pub mod settings;
pub mod text_limit;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};

use crate::error::ApiError;

/// The current time as stored: UTC, truncated to microseconds because PostgreSQL keeps no
/// more, so a value read back compares equal on both backends.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

/// A time as stored: truncated to microseconds (see [`now`]).
pub fn truncate(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

mod pg_functions {
    diesel::define_sql_function! {
        /// PostgreSQL's hash of a text, the key of an advisory lock.
        fn hashtext(key: diesel::sql_types::Text) -> diesel::sql_types::Integer;
    }
    diesel::define_sql_function! {
        /// Waits for a lock on `key` held until the transaction ends. Returns `void`, which
        /// is never read: the call is executed, not loaded.
        fn pg_advisory_xact_lock(key: diesel::sql_types::Integer) -> diesel::sql_types::Bool;
    }
}

/// On PostgreSQL, makes transactions that name the same `subject` take turns until the end of
/// the current transaction; SQLite needs nothing, since its writers always take turns.
/// Written with diesel's query builder rather than raw SQL so the statement is prepared once
/// per connection, not on every call.
pub fn lock_subject(conn: &mut Db, subject: &str) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    if let Db::Pg(pg) = conn {
        diesel::select(pg_functions::pg_advisory_xact_lock(pg_functions::hashtext(
            subject,
        )))
        .execute(pg)?;
    }
    Ok(())
}

/// A connection to either backend. Queries written against `Db` compile once and run on both;
/// where the SQL dialects differ, code matches on the variant in one place.
#[derive(diesel::MultiConnection)]
pub enum Db {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Db {
    pub fn backend(&self) -> Backend {
        match self {
            Db::Pg(_) => Backend::Postgres,
            Db::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// A database address whose scheme has been checked.
///
/// The scheme is parsed here rather than left to `Db::establish`, which tries each backend in
/// turn: SQLite accepts almost any string as a file name, so a mistyped PostgreSQL URL would
/// silently create a stray SQLite file instead of failing with the real connection error.
#[derive(Clone, PartialEq, Eq)]
pub enum DbUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum DbUrlError {
    #[error("expected sqlite://PATH or postgres://…, got `{0}`")]
    UnknownScheme(String),
    #[error("sqlite:// needs a file path, e.g. sqlite://newsdesk.db or sqlite:///var/lib/newsdesk.db")]
    EmptySqlitePath,
    #[error("invalid PostgreSQL URL: {0}")]
    BadPostgres(String),
}

impl DbUrl {
    pub fn parse(raw: &str) -> Result<Self, DbUrlError> {
        let raw = raw.trim();
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path.contains('?') || path == ":memory:" {
                // An in-memory database would be a different empty database per pooled
                // connection, and query options are not interpreted: refuse both early.
                return Err(DbUrlError::EmptySqlitePath);
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let parsed = url::Url::parse(raw).map_err(|e| DbUrlError::BadPostgres(e.to_string()))?;
            if parsed.host_str().is_none_or(str::is_empty) && !raw.contains("host=") {
                return Err(DbUrlError::BadPostgres("no host".into()));
            }
            return Ok(DbUrl::Postgres(raw.to_owned()));
        }
        let shown: String = raw.chars().take(40).collect();
        Err(DbUrlError::UnknownScheme(shown))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbUrl::Postgres(_) => Backend::Postgres,
            DbUrl::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Opens one connection of the right backend, set up for serving.
    pub fn connect(&self) -> Result<Db, ConnectionError> {
        match self {
            DbUrl::Postgres(url) => PgConnection::establish(url).map(Db::Pg),
            DbUrl::Sqlite(path) => {
                let path = path.to_str().ok_or_else(|| {
                    ConnectionError::InvalidConnectionUrl("SQLite path is not UTF-8".into())
                })?;
                let mut conn = SqliteConnection::establish(path)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(Db::Sqlite(conn))
            }
        }
    }
}

/// SQLite tuned for a multi-threaded server.
///
/// - WAL lets readers proceed while one writer commits.
/// - `synchronous=FULL` fsyncs the WAL at every commit. NORMAL would already keep a committed
///   transaction across `kill -9` (the WAL write has reached the kernel), but could drop the
///   last commits on power loss; an editor's acknowledged save must survive both, and the
///   write rate of a CMS makes the extra fsync affordable.
/// - `busy_timeout` makes a writer wait for the lock instead of failing at once; it comes
///   first so that switching to WAL, which takes a lock too, waits as well.
/// - Foreign keys are off by default in SQLite and must be enabled per connection.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;";

impl fmt::Debug for DbUrl {
    /// Never prints a PostgreSQL password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DbUrl::Postgres(raw) => match url::Url::parse(raw) {
                Ok(mut url) => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("***"));
                    }
                    write!(f, "{url}")
                }
                Err(_) => f.write_str("postgres://(unparsable)"),
            },
        }
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// r2d2's connection timeout, which it halves into the longest pause between reconnection
/// attempts.
const POOL_RECONNECT_TIMEOUT: Duration = Duration::from_millis(600);

/// How long a readiness probe waits for a connection.
const READY_WITHIN: Duration = Duration::from_secs(1);

/// The slices a checkout waits in, checking the breaker between them.
const CHECKOUT_SLICE: Duration = Duration::from_millis(100);

/// A connection that answered a query this recently is taken to be alive without a probe.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// A pooled connection and when it last worked.
pub struct TrackedDb {
    conn: Db,
    last_ok: std::time::Instant,
}

/// r2d2 manager that establishes the inner connection explicitly (see [`DbUrl`]).
#[derive(Debug)]
pub struct DbManager {
    url: DbUrl,
    breaker: std::sync::Arc<breaker::Breaker>,
    /// The id of the [`Database`] the pool belongs to, for the connections' journals.
    database: u64,
    /// `PRAGMA mmap_size` of SQLite connections: reads of mapped pages cost no system call, no
    /// copy and no lock in SQLite's own page cache (2 MiB per connection, which a large file
    /// churns), about a quarter of an uncached page's time on 100,000 articles. Each
    /// connection maps the file on its own, so resident memory as `ps` shows it counts a
    /// mapped page once per connection that touched it, though it is one page of the
    /// kernel's cache; and a disk that fails under a mapped read stops the process (SIGBUS)
    /// where a read would have returned an error. Hence off unless asked for.
    sqlite_mmap: u64,
}

impl r2d2::ManageConnection for DbManager {
    type Connection = TrackedDb;
    type Error = ConnectionError;

    fn connect(&self) -> Result<TrackedDb, ConnectionError> {
        match self.url.connect() {
            Ok(mut conn) => {
                if let (Db::Sqlite(sqlite), 1..) = (&mut conn, self.sqlite_mmap) {
                    sqlite
                        .batch_execute(&format!("PRAGMA mmap_size = {}", self.sqlite_mmap))
                        .map_err(ConnectionError::CouldntSetupConfiguration)?;
                }
                conn.set_instrumentation(effects::Journal::new(self.database));
                Ok(TrackedDb {
                    conn,
                    last_ok: std::time::Instant::now(),
                })
            }
            Err(e) => {
                // Only a server that refuses connections is an outage. SQLite opens a local
                // file: a failure there is a lock held a moment too long by another
                // connection, which the next attempt gets past.
                if self.url.backend() == Backend::Postgres {
                    self.breaker.trip();
                }
                Err(e)
            }
        }
    }

    /// Probes with `SELECT 1` unless the connection worked within [`TRUSTED_FOR`]: after the
    /// database restarts, dead connections are found and replaced within that time, and a
    /// busy server does not pay a round trip per request for it. Diesel's own `is_broken`
    /// only sees failed transactions, not a closed socket.
    fn is_valid(&self, tracked: &mut TrackedDb) -> Result<(), ConnectionError> {
        if tracked.last_ok.elapsed() < TRUSTED_FOR {
            return Ok(());
        }
        tracked
            .conn
            .batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        tracked.last_ok = std::time::Instant::now();
        Ok(())
    }

    fn has_broken(&self, tracked: &mut TrackedDb) -> bool {
        match &mut tracked.conn {
            Db::Pg(c) => c.is_broken(),
            Db::Sqlite(c) => c.is_broken(),
        }
    }
}

pub type Pool = r2d2::Pool<DbManager>;
pub type PooledDb = r2d2::PooledConnection<DbManager>;

/// The shared handle to the database: cheap to clone, one per process.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    backend: Backend,
    /// Writers of this process queue here on SQLite (see [`Database::write`]).
    sqlite_writer: std::sync::Arc<std::sync::Mutex<()>>,
    /// Tells this process's writes from other processes' (random, never 0).
    id: u64,
    /// What runs after a call with the effects its committed writes recorded (see
    /// [`effects`]).
    hooks: std::sync::Arc<effects::Hooks>,
    /// Open while the database is unreachable (see [`breaker`]).
    breaker: std::sync::Arc<breaker::Breaker>,
    /// How long a request waits for a connection from a working database.
    timeout: Duration,
    /// Where [`read`](Self::read) may run besides the primary (see [`replicas`]).
    replicas: Option<std::sync::Arc<replicas::Replicas>>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend)
            .field("state", &self.pool.state())
            .finish()
    }
}

impl Database {
    /// Builds the pool without waiting for connections: the caller has already proven the
    /// database reachable (migrations ran), and a pool that must fill before returning would
    /// turn a brief outage at start into a crash loop.
    pub fn new(url: &DbUrl, max_size: u32, timeout: Duration) -> Self {
        Self::with_sqlite_mmap(url, max_size, timeout, 0)
    }

    /// [`new`](Self::new), with SQLite connections mapping up to `sqlite_mmap` bytes of the
    /// file (see [`DbManager`]).
    pub fn with_sqlite_mmap(url: &DbUrl, max_size: u32, timeout: Duration, sqlite_mmap: u64) -> Self {
        let breaker = breaker::Breaker::new(url.clone());
        let id = random_id();
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(max_size.min(2)))
            // Requests wait by `checkout`, up to `timeout`; r2d2's own timeout only caps the
            // back-off of its reconnection attempts (at half of it), which after an outage is
            // how long the pool may take to notice the database is back.
            .connection_timeout(POOL_RECONNECT_TIMEOUT)
            // Checked out connections are probed (see `DbManager::is_valid`): after the
            // database restarts, the dead ones are replaced.
            .test_on_check_out(true)
            .build_unchecked(DbManager {
                url: url.clone(),
                breaker: breaker.clone(),
                database: id,
                sqlite_mmap,
            });
        Database {
            pool,
            backend: url.backend(),
            sqlite_writer: Default::default(),
            id,
            hooks: Default::default(),
            breaker,
            timeout,
            replicas: None,
        }
    }

    /// This handle, serving [`read`](Self::read) from `replicas` when they may. Call it before
    /// the handle is cloned: clones made earlier keep reading from the primary only.
    pub fn with_replicas(mut self, replicas: Option<std::sync::Arc<replicas::Replicas>>) -> Self {
        self.replicas = replicas;
        self
    }

    pub fn replicas(&self) -> Option<&std::sync::Arc<replicas::Replicas>> {
        self.replicas.as_ref()
    }

    /// A pooled connection, waiting up to `within` for one; 503 at once while the breaker
    /// is open, and as soon as it opens during the wait.
    fn checkout(&self, within: Duration) -> Result<PooledDb, ApiError> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if self.breaker.is_open() {
                return Err(ApiError::Unavailable(
                    "the database was unreachable moments ago; answering at once until it is back".into(),
                ));
            }
            // Waited in slices, so a wait that began before the breaker opened ends with it.
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.pool.get_timeout(left.min(CHECKOUT_SLICE)) {
                Ok(conn) => return Ok(conn),
                Err(e) if left <= CHECKOUT_SLICE => return Err(ApiError::from_pool(e)),
                Err(_) => {}
            }
        }
    }

    /// Readiness: the database answers `SELECT 1` within a second (or the breaker says it
    /// cannot), so a health check never waits the whole connection timeout.
    pub fn ready(&self) -> Result<(), ApiError> {
        self.run_within(READY_WITHIN.min(self.timeout), |conn| {
            conn.batch_execute("SELECT 1")
                .map_err(|e| ApiError::Unavailable(e.to_string()))
        })
    }

    /// Tells this database handle, and so this process, from the others writing to the
    /// same database; the connections it hands out report it (see
    /// [`effects::database_id`]).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Registers `hook` to receive, after every call, the effects of type `E` that the call's
    /// committed writes recorded (see [`effects`]). Register at start-up, before the first
    /// call, and one hook per type: the first registered for a type takes its effects.
    pub fn on_commit<E: Send + 'static>(&self, hook: impl Fn(Vec<E>) + Send + Sync + 'static) {
        self.hooks.register(hook);
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn run<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Db) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_with(None, f).await
    }

    /// Like [`run`](Self::run), for the public reads a streaming replica may serve (see
    /// [`replicas`] for when): article lists and pages, feeds, public taxonomy, comments and
    /// author profiles. Never for writes, nor for reads an editor or a write depends on, which
    /// must see the primary. `f` is cloned to run again elsewhere when a replica fails it.
    pub async fn read<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Db) -> Result<T, ApiError> + Clone + Send + 'static,
        T: Send + 'static,
    {
        let Some(replicas) = self.replicas.clone() else {
            return self.run(f).await;
        };
        let db = self.clone();
        actix_web::web::block(move || match replicas.read(f) {
            Ok(result) => result,
            Err(f) => {
                replicas.served_by_primary();
                db.run_here(f)
            }
        })
        .await
        .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))?
    }

    /// Like [`read`](Self::read), for the public reads that cost SQLite a fraction of a
    /// millisecond from memory: an article's page, a page of a list without a search. On
    /// SQLite, with an idle connection at hand, `f` runs on the calling thread (the HTTP
    /// worker's) instead of being handed to the blocking pool and its answer handed back:
    /// without the two thread wake-ups per request and the hand-over, an uncached list took
    /// about a fifth less time. Without an idle connection, and on PostgreSQL, whose answers
    /// arrive over a socket, it is [`read`](Self::read).
    pub async fn read_quick<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Db) -> Result<T, ApiError> + Clone + Send + 'static,
        T: Send + 'static,
    {
        if self.backend == Backend::Sqlite
            && self.replicas.is_none()
            && !self.breaker.is_open()
            && let Some(conn) = self.pool.try_get()
        {
            let again = f.clone();
            // In one read transaction: SQLite begins and ends one around each statement
            // otherwise (a look at the write-ahead log and the locks each time, 5% of an
            // uncached list's time), and the statements of one answer see one snapshot.
            let run = std::panic::AssertUnwindSafe(|| {
                quick::in_place(|| self.run_on(conn, |conn| conn.transaction(f)))
            });
            // A panic must not take the HTTP worker with it: it becomes a 500, as a panic on
            // the blocking pool does. The connection it leaves inside a transaction is found
            // broken and dropped when it goes back to the pool.
            match std::panic::catch_unwind(run) {
                Ok(Some(result)) => return result,
                Ok(None) => return self.read(again).await,
                Err(_) => return Err(ApiError::internal("a database read panicked")),
            }
        }
        self.read(f).await
    }

    /// Like [`run`](Self::run), for a transaction that writes and is run often under
    /// concurrency. SQLite admits one writer at a time and lets the others retry on a
    /// sleeping back-off, which under a burst leaves some writers waiting a second or more
    /// while others get through; queueing this process's writers on a mutex first hands the
    /// write lock over as soon as it is free. PostgreSQL writers run in parallel.
    pub async fn write<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Db) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let queue = (self.backend == Backend::Sqlite).then(|| self.sqlite_writer.clone());
        self.run_with(queue, f).await
    }

    /// Runs `f` with a pooled connection on the calling thread, which must be one that may
    /// block (a worker thread of our own, or inside `web::block`).
    pub fn run_here<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Db) -> Result<T, ApiError>,
    {
        self.run_within(self.timeout, f)
    }

    /// [`run_here`](Self::run_here), waiting at most `within` for a connection.
    fn run_within<F, T>(&self, within: Duration, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Db) -> Result<T, ApiError>,
    {
        self.run_on(self.checkout(within)?, f)
    }

    /// Runs `f` with the checked out connection `tracked`, then what its commits call for.
    fn run_on<F, T>(&self, mut tracked: PooledDb, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Db) -> Result<T, ApiError>,
    {
        let result = f(&mut tracked.conn);
        // After the call, never inside it: what the hooks announce is committed by then.
        let committed = effects::take_committed(&mut tracked.conn);
        // Before the hooks move the cache's generations: a replica that has not replayed
        // these writes must not serve an answer stamped after them (see `replicas`).
        if !committed.is_empty()
            && let (Some(replicas), Db::Pg(pg)) = (&self.replicas, &mut tracked.conn)
        {
            replicas.fence().advance_on(pg);
        }
        self.hooks.apply(committed);
        // Answers the database gave prove the connection alive; a lost connection or an
        // unexpected failure leaves it to be probed on its next checkout.
        if !matches!(result, Err(ApiError::Unavailable(_) | ApiError::Internal(_))) {
            tracked.last_ok = std::time::Instant::now();
        }
        result
    }

    async fn run_with<F, T>(
        &self,
        queue: Option<std::sync::Arc<std::sync::Mutex<()>>>,
        f: F,
    ) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Db) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || {
            // A writer that panicked while queued poisons nothing that needs guarding: the
            // mutex protects no data, only the order of writers.
            let _turn = queue
                .as_ref()
                .map(|q| q.lock().unwrap_or_else(|p| p.into_inner()));
            db.run_here(f)
        })
        .await
        .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))?
    }
}

/// A random id, never 0. Without the OS generator, the process id still differs between the
/// processes that could collide; a collision costs only missed cache notifications between
/// those two, which nothing would report, so it is made unlikely instead.
fn random_id() -> u64 {
    let mut bytes = [0u8; 8];
    let id = match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => std::process::id().into(),
    };
    id.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_a_file() {
        assert_eq!(
            DbUrl::parse("sqlite://newsdesk.db").ok(),
            Some(DbUrl::Sqlite("newsdesk.db".into()))
        );
        assert_eq!(
            DbUrl::parse("sqlite:///var/lib/newsdesk/db.sqlite").ok(),
            Some(DbUrl::Sqlite("/var/lib/newsdesk/db.sqlite".into()))
        );
        assert!(DbUrl::parse("sqlite://").is_err());
        assert!(DbUrl::parse("sqlite://:memory:").is_err());
    }

    #[test]
    fn postgres_urls_are_kept_whole_and_typos_refused() {
        let url = "postgres://u:p@db:5432/news?sslmode=require";
        assert_eq!(DbUrl::parse(url).ok(), Some(DbUrl::Postgres(url.into())));
        assert!(DbUrl::parse("postgresql://db/news").is_ok());
        for typo in [
            "postgress://db/news",
            "postgres:/db",
            "db.example/news",
            "mysql://x/y",
            "",
        ] {
            assert!(DbUrl::parse(typo).is_err(), "{typo} must be refused");
        }
    }

    /// `.cargo/config.toml` builds the bundled SQLite with the query planner stability
    /// guarantee (without it every query with a bound LIMIT is parsed again on each call), and
    /// without the memory management that makes all connections share one locked page cache.
    #[test]
    fn sqlite_is_built_as_the_repository_configures_it() {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = SqliteConnection::establish(":memory:").unwrap_or_else(|e| panic!("{e}"));
        let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options")
            .load(&mut conn)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            options.iter().any(|o| o.compile_options == "ENABLE_QPSG"),
            "built without SQLITE_ENABLE_QPSG: build through cargo in the repository"
        );
        assert!(
            !options
                .iter()
                .any(|o| o.compile_options == "ENABLE_MEMORY_MANAGEMENT"),
            "built with SQLITE_ENABLE_MEMORY_MANAGEMENT: build through cargo in the repository"
        );
    }

    #[test]
    fn shown_urls_hide_the_password() {
        let url = DbUrl::parse("postgres://newsdesk:hunter2@db/news").unwrap_or_else(|e| panic!("{e}"));
        assert!(!url.to_string().contains("hunter2"));
        assert!(url.to_string().contains("***"));
    }
}
