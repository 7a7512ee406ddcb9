//! Background work inside the server process: publishing scheduled articles and
//! unpublishing those whose `unpublish_at` came, sending
//! webhooks, writing view counts, purging spent captcha nonces and old webhook events,
//! sweeping media files no row names, and indexing the pairs of words of new search rows
//! (PostgreSQL).
//! Stopped after the HTTP server has drained, with a last flush so no counted view is lost on
//! a clean shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::app::AppState;
use crate::articles::workflow::{publish_due, unpublish_due};
use crate::webhooks::worker::deliver_backlog;

/// How often counted views are written.
pub const VIEW_FLUSH_EVERY: Duration = Duration::from_secs(2);

pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<actix_web::rt::task::JoinHandle<()>>,
    state: AppState,
}

/// One run of the scheduler: publishes what is due and forgets spent captcha nonces whose
/// tokens have expired. Returns the ids published.
pub async fn run_scheduler(state: &AppState) -> Result<Vec<i64>, crate::error::ApiError> {
    let published = state.db.run(publish_due).await?;
    let unpublished = state.db.run(unpublish_due).await?;
    if !unpublished.is_empty() {
        tracing::info!(?unpublished, "unpublished articles whose unpublish_at came");
    }
    state
        .db
        .run(|conn| Ok(crate::comments::captcha::purge_expired(conn, chrono::Utc::now())?))
        .await?;
    state
        .db
        .run(|conn| Ok(crate::webhooks::worker::purge(conn, crate::db::now())?))
        .await?;
    if !published.is_empty() {
        tracing::info!(?published, "published scheduled articles");
    }
    Ok(published)
}

/// Writes the counted views.
pub async fn flush_views(state: &AppState) -> Result<i64, crate::error::ApiError> {
    if state.views.pending() == 0 {
        return Ok(0);
    }
    let views = state.views.clone();
    state.db.run(move |conn| Ok(views.flush(conn)?)).await
}

/// How often new search rows are looked for to index their pairs of words (PostgreSQL).
pub const PAIRS_EVERY: Duration = Duration::from_secs(5);

/// Indexes the pairs of words of every search row not indexed yet (see `search::pairs`), a
/// batch at a time, until none is left or `stopped`. Returns how many rows it indexed.
pub async fn pair_backlog(
    state: &AppState,
    stopped: impl Fn() -> bool,
) -> Result<usize, crate::error::ApiError> {
    use crate::search::pairs;
    // An import's backlog takes minutes (some 200 rows a second): a line now and then shows it
    // moving.
    const LOG_EVERY: usize = 10_000;
    let mut done = 0;
    while !stopped() {
        let paired = state
            .db
            .run(|conn| Ok(pairs::pair_some(conn, pairs::BATCH)?))
            .await?;
        if (done + paired) / LOG_EVERY > done / LOG_EVERY {
            tracing::info!(
                rows = done + paired,
                "indexing the pairs of words of new search rows"
            );
        }
        done += paired;
        if (paired as i64) < pairs::BATCH {
            break;
        }
    }
    if done > 0 {
        tracing::info!(rows = done, "indexed the pairs of words of new search rows");
    }
    Ok(done)
}

/// Runs `job` every `period`, and at once whenever `wake` is notified, until `stop` changes.
async fn every<F, Fut>(
    period: Duration,
    wake: Option<Arc<Notify>>,
    mut stop: watch::Receiver<bool>,
    mut job: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut ticks = actix_web::rt::time::interval(period);
    let woken = || async {
        match &wake {
            Some(wake) => wake.notified().await,
            None => std::future::pending().await,
        }
    };
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = woken() => {}
            _ = stop.changed() => return,
        }
        job().await;
    }
}

impl Workers {
    /// Starts the workers; the first scheduler run happens at once, so anything that fell due
    /// while no server was running is published on start.
    pub fn start(state: &AppState) -> Workers {
        let (stop, watch) = watch::channel(false);
        let scheduler = {
            let state = state.clone();
            let period = state.config.scheduler_interval;
            actix_web::rt::spawn(every(period, None, watch.clone(), move || {
                let state = state.clone();
                async move {
                    if let Err(e) = run_scheduler(&state).await {
                        tracing::warn!(error = %e, "scheduled publishing failed; retrying next run");
                    }
                }
            }))
        };
        let webhooks = {
            let state = state.clone();
            let period = state.config.scheduler_interval;
            let wake = state.webhooks.outbox().clone();
            let stop = watch.clone();
            actix_web::rt::spawn(every(period, Some(wake), watch.clone(), move || {
                let (state, stop) = (state.clone(), stop.clone());
                async move {
                    let stopped = || *stop.borrow();
                    if let Err(e) = deliver_backlog(&state, crate::db::now, stopped).await {
                        tracing::warn!(error = %e, "sending webhooks failed; retrying next run");
                    }
                }
            }))
        };
        let media = {
            let state = state.clone();
            actix_web::rt::spawn(every(
                crate::media::sweep::EVERY,
                None,
                watch.clone(),
                move || {
                    let state = state.clone();
                    async move {
                        if let Err(e) = crate::media::sweep::sweep(&state, crate::media::sweep::GRACE).await {
                            tracing::warn!(error = %e, "sweeping media files failed; retrying next run");
                        }
                    }
                },
            ))
        };
        // SQLite's FTS5 keeps word positions itself: nothing to index there.
        let pairs = (state.db.backend() == crate::db::Backend::Postgres).then(|| {
            let state = state.clone();
            let stop = watch.clone();
            actix_web::rt::spawn(every(PAIRS_EVERY, None, watch.clone(), move || {
                let (state, stop) = (state.clone(), stop.clone());
                async move {
                    if let Err(e) = pair_backlog(&state, || *stop.borrow()).await {
                        tracing::warn!(error = %e, "indexing search pairs failed; retrying next run");
                    }
                }
            }))
        });
        let views = {
            let state = state.clone();
            actix_web::rt::spawn(every(VIEW_FLUSH_EVERY, None, watch, move || {
                let state = state.clone();
                async move {
                    if let Err(e) = flush_views(&state).await {
                        tracing::warn!(error = %e, "writing view counts failed; kept for the next run");
                    }
                }
            }))
        };
        Workers {
            stop,
            tasks: [scheduler, webhooks, media, views]
                .into_iter()
                .chain(pairs)
                .collect(),
            state: state.clone(),
        }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        match flush_views(&self.state).await {
            Ok(n) if n > 0 => tracing::info!(views = n, "wrote the last view counts"),
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, pending = self.state.views.pending(), "view counts lost at shutdown")
            }
        }
    }
}
