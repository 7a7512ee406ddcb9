//! Fails fast while the database is known to be unreachable.
//!
//! Without it, every request during an outage waits the whole connection timeout
//! (`NEWSDESK_DB_TIMEOUT`) before its 503, and a request that needs the database twice waits
//! twice: a load balancer whose health check gives up sooner sees timeouts, not 503s. Once a
//! connection attempt has failed, the breaker opens: requests answer 503 at once, and one
//! background thread tries to connect every [`PROBE_EVERY`] until it succeeds, which closes
//! the breaker again without a restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::DbUrl;

/// How often the prober tries the database while the breaker is open; bounds how long
/// service takes to resume after the database is back.
pub const PROBE_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug)]
pub struct Breaker {
    url: DbUrl,
    open: AtomicBool,
    probing: AtomicBool,
    /// Whether tripping starts the prober. A read replica's breaker has none: its monitor
    /// (see [`super::replicas`]) closes it once the replica answers and has caught up, which
    /// a bare connection does not prove.
    prober: bool,
}

impl Breaker {
    pub fn new(url: DbUrl) -> Arc<Self> {
        Arc::new(Breaker {
            url,
            open: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            prober: true,
        })
    }

    /// A breaker that only [`close`](Self::close) closes.
    pub fn without_prober(url: DbUrl) -> Arc<Self> {
        Arc::new(Breaker {
            url,
            open: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            prober: false,
        })
    }

    pub fn close(&self) {
        self.open.store(false, Ordering::Release);
    }

    /// Whether the database was found unreachable and has not answered since.
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    /// A connection attempt failed: open, and start the prober unless one runs.
    pub fn trip(self: &Arc<Self>) {
        self.open.store(true, Ordering::Release);
        if !self.prober || self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let breaker = Arc::clone(self);
        let started = std::thread::Builder::new()
            .name("newsdesk-db-probe".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(PROBE_EVERY);
                    if breaker.url.connect().is_ok() {
                        break;
                    }
                }
                tracing::info!("the database answers again");
                // Probing ends before the breaker closes: a failure in between trips it
                // again and starts a new prober rather than finding this one still marked.
                breaker.probing.store(false, Ordering::Release);
                breaker.open.store(false, Ordering::Release);
            });
        match started {
            Ok(_) => tracing::warn!("the database is unreachable; answering 503 until it is back"),
            Err(e) => {
                // Without a prober nothing would close the breaker: leave it closed, so
                // requests go back to waiting on the pool.
                tracing::error!(error = %e, "cannot start the database prober");
                self.probing.store(false, Ordering::Release);
                self.open.store(false, Ordering::Release);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database that cannot be opened keeps the breaker open; once it can, the prober
    /// closes it without anyone asking.
    #[test]
    fn the_prober_closes_the_breaker_once_the_database_answers() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let missing = dir.path().join("not-yet");
        let breaker = Breaker::new(DbUrl::Sqlite(missing.join("news.db")));
        assert!(!breaker.is_open());
        breaker.trip();
        assert!(breaker.is_open());
        std::thread::sleep(PROBE_EVERY * 3);
        assert!(
            breaker.is_open(),
            "closed while the database still cannot be opened"
        );

        std::fs::create_dir(&missing).unwrap_or_else(|e| panic!("{e}"));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while breaker.is_open() {
            assert!(
                std::time::Instant::now() < deadline,
                "the prober never closed the breaker"
            );
            std::thread::sleep(PROBE_EVERY / 4);
        }
        // A later failure opens it again and starts a new prober.
        std::fs::remove_dir_all(&missing).unwrap_or_else(|e| panic!("{e}"));
        breaker.trip();
        assert!(breaker.is_open());
    }
}
