//! `newsdesk serve`: start-up, the HTTP server, and graceful shutdown.

use std::time::Duration;

use actix_web::HttpServer;

use crate::app::{AppState, build_app};
use crate::config::Config;

/// In-flight requests get this long to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

pub async fn serve(mut config: Config, demo: bool) -> anyhow::Result<()> {
    // The demo content is there to be read: show it in the reference reader.
    config.reader |= demo;
    let bind = config.bind;
    let reader = config.reader;
    let workers = config.workers;
    let database = config.database.to_string();
    let state = actix_web::web::block(move || AppState::prepare(config)).await??;
    crate::accounts_cli::bootstrap_admin(&state).await?;
    if demo {
        let loaded = state.db.run(crate::articles::demo::load).await?;
        if loaded {
            tracing::info!("--demo: loaded the sample article and its neighbours");
        } else {
            tracing::info!("--demo: the database already has articles; nothing loaded");
        }
    }
    let background = crate::workers::Workers::start(&state);

    let server = HttpServer::new({
        let state = state.clone();
        move || build_app(state.clone())
    })
    .workers(workers)
    .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
    .bind(bind)
    .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;

    tracing::info!(%bind, %database, workers, "newsdesk listening; API docs at http://{bind}/docs");
    if reader {
        tracing::info!("reader page at http://{bind}/");
    }
    // actix stops accepting on SIGINT/SIGTERM and waits for in-flight requests to finish.
    let served = server.run().await;
    // The server has drained; now the workers stop and write what they hold.
    background.stop().await;
    served?;
    tracing::info!("newsdesk stopped");
    Ok(())
}
