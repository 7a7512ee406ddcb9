//! Background work inside the server process: publishing scheduled articles, sending
//! webhooks, writing view counts and purging spent captcha nonces and old webhook events.
//! Stopped after the HTTP server has drained, with a last flush so no counted view is lost on
//! a clean shutdown.

use std::time::Duration;

use tokio::sync::watch;

use crate::app::AppState;
use crate::articles::service::publish_due;

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

async fn every<F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut ticks = actix_web::rt::time::interval(period);
    loop {
        tokio::select! {
            _ = ticks.tick() => job().await,
            _ = stop.changed() => return,
        }
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
            actix_web::rt::spawn(every(period, watch.clone(), move || {
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
            let mut stop = watch.clone();
            let period = state.config.scheduler_interval;
            let wake = state.webhooks.outbox().clone();
            actix_web::rt::spawn(async move {
                let mut ticks = actix_web::rt::time::interval(period);
                loop {
                    tokio::select! {
                        _ = ticks.tick() => {}
                        _ = wake.notified() => {}
                        _ = stop.changed() => return,
                    }
                    // A backlog goes batch by batch, so a stop waits for one batch at most.
                    while !*stop.borrow() {
                        match crate::webhooks::worker::deliver_batch(&state, crate::db::now()).await {
                            Ok(n) if n as i64 == crate::webhooks::worker::BATCH => {}
                            Ok(_) => break,
                            Err(e) => {
                                tracing::warn!(error = %e, "sending webhooks failed; retrying next run");
                                break;
                            }
                        }
                    }
                }
            })
        };
        let views = {
            let state = state.clone();
            actix_web::rt::spawn(every(VIEW_FLUSH_EVERY, watch, move || {
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
            tasks: vec![scheduler, webhooks, views],
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
