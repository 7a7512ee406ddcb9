//! `newsdesk serve`: start-up, the HTTP server, and graceful shutdown.

use std::time::Duration;

use actix_web::HttpServer;

use crate::app::{AppState, build_app};
use crate::config::Config;

/// In-flight requests get this long to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A client has this long to send the request line and headers; actix answers a slower one
/// with 408 itself and closes the connection.
const HEADERS_TIMEOUT: Duration = Duration::from_secs(5);

/// After the server closes a connection, the client has this long to close its side before
/// the socket is dropped, so half-closed connections cannot pile up.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// File descriptors kept for everything that is not a client connection: the listener, the
/// database pool, SQLite's files, log files, webhook deliveries.
const RESERVED_FDS: u64 = 256;

/// Raises the soft open-file limit to the hard one (an unprivileged process may) and returns
/// how many client connections fit under it, never more than asked for.
fn connection_budget(wanted: usize, pool_size: u32) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            return wanted;
        }
    };
    let fit = limit.saturating_sub(RESERVED_FDS + u64::from(pool_size)).max(1);
    let fit = usize::try_from(fit).unwrap_or(usize::MAX);
    if fit < wanted {
        tracing::warn!(
            open_file_limit = limit,
            max_connections = fit,
            "NEWSDESK_MAX_CONNECTIONS lowered to fit the open-file limit"
        );
        fit
    } else {
        wanted
    }
}

pub async fn serve(mut config: Config, demo: bool) -> anyhow::Result<()> {
    // The demo content is there to be read: show it in the reference reader.
    config.reader |= demo;
    let bind = config.bind;
    let reader = config.reader;
    let workers = config.workers;
    let max_connections = connection_budget(config.max_connections, config.db_pool_size);
    let database = config.database.to_string();
    let state = actix_web::web::block(move || AppState::prepare(config)).await??;
    crate::accounts_cli::bootstrap_admin(&state).await?;
    if demo {
        let links = state.media.links.clone();
        let loaded = state
            .db
            .run(move |conn| crate::articles::demo::load(conn, &links))
            .await?;
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
    // actix counts connections per worker; the setting is for the whole process.
    .max_connections(max_connections.div_ceil(workers).max(1))
    .client_request_timeout(HEADERS_TIMEOUT)
    .client_disconnect_timeout(DISCONNECT_TIMEOUT)
    .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
    .bind(bind)
    .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;

    tracing::info!(%bind, %database, workers, max_connections, "newsdesk listening; API docs at http://{bind}/docs");
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
