//! Application state and the actix `App`, shared by `newsdesk serve` and the tests.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Condition, ErrorHandlers, from_fn};
use actix_web::{App, web};

use crate::articles::public::ListTotals;
use crate::articles::views::ViewCounter;
use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::db::{self, Database};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::ops::metrics::Metrics;
use crate::{auth, comments, http, openapi, webhooks};

/// Secrets every process must agree on; generated once and kept in the database.
pub struct Secrets {
    pub jwt: String,
    /// Key of the keyed hash that stands in for client addresses in the database.
    pub client_key: String,
    /// Key that signs captcha tokens.
    pub captcha_key: String,
}

/// Everything a request handler may need. Cheap to clone: one copy per HTTP worker.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Database,
    pub metrics: Metrics,
    pub secrets: Arc<Secrets>,
    pub jwt: Arc<JwtKeys>,
    /// Views counted by this process and not yet written.
    pub views: Arc<ViewCounter>,
    /// Short-lived totals of public article lists.
    pub list_totals: Arc<ListTotals>,
    /// The pools related articles are chosen from, by tag.
    pub tag_pools: Arc<crate::articles::public::TagPools>,
    /// Bylines, tags and categories by id, as public pages show them.
    pub names: Arc<crate::articles::names::Names>,
    /// Cached answers of public GETs (see [`crate::cache`]).
    pub cache: Arc<crate::cache::ResponseCache>,
    /// Writes public comments in batches on PostgreSQL (see [`comments::batch`]).
    pub comment_writer: Option<Arc<comments::batch::BatchWriter>>,
    /// Sends webhook deliveries (see [`webhooks::worker`]).
    pub webhooks: Arc<webhooks::worker::Sender>,
    /// The media library's store and settings.
    pub media: crate::media::Library,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        source: diesel::ConnectionError,
    },
    #[error("migrations failed: {0}")]
    Migrate(Box<dyn std::error::Error + Send + Sync>),
    #[error("reading settings failed: {0}")]
    Settings(diesel::result::Error),
    #[error("indexing articles for search failed: {0}")]
    Index(diesel::result::Error),
    #[error("setting up metrics failed: {0}")]
    Metrics(Box<dyn std::error::Error + Send + Sync>),
    #[error("setting up the webhook client failed: {0}")]
    Webhooks(reqwest::Error),
    #[error("starting a background thread failed: {0}")]
    Thread(std::io::Error),
    #[error("opening the media store failed: {0}")]
    Media(crate::storage::StoreError),
    #[error("starting the read replicas failed: {0}")]
    Replicas(Box<dyn std::error::Error + Send + Sync>),
}

impl AppState {
    /// A public GET answered from the response cache, or built by `f` from the database and
    /// kept. `f` gets the cache stamp its answer is built under (see [`crate::cache`]).
    pub async fn cached<F>(
        &self,
        req: &actix_web::HttpRequest,
        content_type: &'static str,
        f: F,
    ) -> Result<actix_web::HttpResponse, ApiError>
    where
        F: FnOnce(&mut db::Db, &crate::cache::Stamp) -> Result<Vec<u8>, ApiError> + Clone + Send + 'static,
    {
        self.cached_quick(req, content_type, false, f).await
    }

    /// [`cached`](Self::cached); when `quick`, for an answer whose miss costs the database a
    /// fraction of a millisecond (see [`Database::read_quick`](db::Database::read_quick)).
    pub async fn cached_quick<F>(
        &self,
        req: &actix_web::HttpRequest,
        content_type: &'static str,
        quick: bool,
        f: F,
    ) -> Result<actix_web::HttpResponse, ApiError>
    where
        F: FnOnce(&mut db::Db, &crate::cache::Stamp) -> Result<Vec<u8>, ApiError> + Clone + Send + 'static,
    {
        self.cache
            .serve(req, content_type, |stamp| async move {
                let read = move |conn: &mut db::Db| Ok((stamp, f(conn, &stamp)?));
                if quick {
                    self.db.read_quick(read).await
                } else {
                    self.db.read(read).await
                }
            })
            .await
    }

    /// The keyed hash that stands for the request's client in the database (see
    /// [`http::client_ip`] for which address that is).
    pub fn client_hash(&self, req: &actix_web::HttpRequest) -> String {
        auth::sessions::client_fingerprint(
            &self.secrets.client_key,
            http::client_ip(req, &self.config.trusted_proxies),
        )
    }

    /// Connects, applies pending migrations and loads the shared secrets. Blocking: call it
    /// before the server starts or from a blocking thread.
    pub fn prepare(config: Config) -> Result<Self, StartupError> {
        // One explicit connection first, so an unreachable database stops the start with the
        // driver's own message rather than a pool timeout. It belongs to no `Database`, so
        // after-commit effects its writes record are dropped (see `db::effects`): the cache
        // and worker they would reach do not exist yet.
        let mut conn = config
            .database
            .connect()
            .map_err(|source| StartupError::Connect {
                url: config.database.to_string(),
                source,
            })?;
        let applied = db::migrate::run_pending(&mut conn).map_err(StartupError::Migrate)?;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied database migrations");
        }
        let indexed = crate::search::index_missing(&mut conn).map_err(StartupError::Index)?;
        if indexed > 0 {
            tracing::info!(indexed, "indexed articles for search");
        }
        let jwt = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => db::settings::secret(&mut conn, "jwt_secret").map_err(StartupError::Settings)?,
        };
        let client_key = db::settings::secret(&mut conn, "client_key").map_err(StartupError::Settings)?;
        let captcha_key = db::settings::secret(&mut conn, "captcha_key").map_err(StartupError::Settings)?;
        drop(conn);

        let db = Database::with_sqlite_mmap(
            &config.database,
            config.db_pool_size,
            config.db_timeout,
            config.sqlite_mmap_bytes,
        );
        let replicas =
            db::replicas::Replicas::new(&config.database, &config.replicas, config.db_pool_size, db.id())
                .map_err(|e| StartupError::Replicas(Box::new(e)))?;
        let db = db.with_replicas(replicas);
        // Hooks first, so that no call of this process commits before they listen.
        let changes = crate::cache::follow(&db);
        let sender = webhooks::worker::Sender::new(&config).map_err(StartupError::Webhooks)?;
        webhooks::wake_on_commit(&db, sender.outbox().clone());
        let metrics = Metrics::new(db.pool().clone(), db.replicas().map(|r| r.metrics()))
            .map_err(StartupError::Metrics)?;
        let jwt_keys = JwtKeys::new(&jwt, config.access_token_ttl);
        let comment_writer = match db.backend() {
            db::Backend::Postgres => Some(Arc::new(
                comments::batch::BatchWriter::start(db.clone()).map_err(StartupError::Thread)?,
            )),
            db::Backend::Sqlite => None,
        };
        if let db::DbUrl::Postgres(url) = &config.database {
            let fence = db.replicas().map(|r| r.fence().clone());
            crate::cache::listener::start(url.clone(), &changes, fence).map_err(StartupError::Thread)?;
        }
        // Once this process listens for changes (see `db::replicas`).
        if let Some(replicas) = db.replicas() {
            replicas
                .watch()
                .map_err(|e| StartupError::Replicas(Box::new(e)))?;
        }
        let cache = crate::cache::ResponseCache::new(config.cache_bytes, config.cache_ttl, changes);
        metrics
            .registry
            .register(Box::new(cache.collector()))
            .map_err(|e| StartupError::Metrics(Box::new(e)))?;
        let media = crate::media::Library::open(&config).map_err(StartupError::Media)?;
        Ok(AppState {
            config: Arc::new(config),
            db,
            metrics,
            secrets: Arc::new(Secrets {
                jwt,
                client_key,
                captcha_key,
            }),
            jwt: Arc::new(jwt_keys),
            views: Arc::new(ViewCounter::default()),
            list_totals: Arc::new(ListTotals::default()),
            tag_pools: Arc::default(),
            names: Arc::default(),
            cache: Arc::new(cache),
            comment_writer,
            webhooks: Arc::new(sender),
            media,
        })
    }
}

/// The whole HTTP application: routes, extractor limits and middleware.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors_enabled = !state.config.cors_origins.is_empty();
    let reader_enabled = state.config.reader;
    let cors = cors(&state.config);
    let metrics = state.metrics.http.clone();
    App::new()
        .app_data(web::Data::new(state))
        .app_data(http::path_config())
        .configure(crate::routing::register)
        .route("/docs", web::get().to(openapi::docs_redirect))
        .service(openapi::swagger_ui())
        .configure(|cfg| {
            if reader_enabled {
                crate::reader::routes(cfg);
            }
        })
        .default_service(web::to(no_route))
        // Outermost last: the request id and log wrap everything (and log the method as
        // sent), metrics see the final status and the method as routed, HEAD drops the body
        // of the final answer, and error rewriting sees CORS refusals.
        .wrap(Condition::new(cors_enabled, cors))
        .wrap(ErrorHandlers::new().default_handler(http::problem_for_plain_errors))
        .wrap(from_fn(http::normalise_method))
        .wrap(metrics)
        .wrap(from_fn(http::request_context))
}

async fn no_route() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found(Code::RouteNotFound))
}

/// The methods of the API's routes, as browsers may use them cross-origin.
pub const CORS_METHODS: [&str; 5] = ["GET", "POST", "PATCH", "DELETE", "OPTIONS"];

/// Browsers may call the API only from the configured origins, sending the configured request
/// headers; with no origin configured the middleware is not installed at all and browsers
/// apply their same-origin rule. Refused preflights become problems in
/// [`http::cors_refusal`].
fn cors(config: &Config) -> actix_cors::Cors {
    use actix_web::http::header;
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(CORS_METHODS)
        .allowed_headers(config.cors_headers.iter().cloned())
        // What a frontend reads from answers: ETags for `If-Match`/`If-None-Match`, the
        // request id to quote, how long to wait after a 429 or 503, where a created resource
        // lives, and the language of messages.
        .expose_headers([
            header::ETAG,
            http::X_REQUEST_ID.clone(),
            header::RETRY_AFTER,
            header::LOCATION,
            header::CONTENT_LANGUAGE,
        ])
        .max_age(3600);
    for origin in &config.cors_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
