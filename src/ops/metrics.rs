//! Prometheus metrics: request counts and latency histograms by route pattern, method and
//! status (recorded by `actix-web-prom`), the database pool's gauges, read at scrape time, and
//! with read replicas, where public reads were served and each replica's state.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Encoder, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use crate::app::AppState;
use crate::db::Pool;
use crate::error::ApiError;
use crate::i18n::Code;
use crate::routing::{Endpoint, endpoints};

/// One registry per process; cloning shares it.
#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    pub http: PrometheusMetrics,
    /// Webhook delivery attempts by outcome: `delivered`, `retry` (failed, tried again later)
    /// or `failed` (the last attempt failed; given up).
    pub webhook_attempts: IntCounterVec,
}

impl Metrics {
    pub fn new(
        pool: Pool,
        replicas: Option<&crate::db::replicas::ReplicaMetrics>,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let registry = Registry::new();
        registry.register(Box::new(PoolCollector::new(pool)?))?;
        if let Some(replicas) = replicas {
            registry.register(Box::new(replicas.reads.clone()))?;
            registry.register(Box::new(replicas.up.clone()))?;
            registry.register(Box::new(replicas.lag.clone()))?;
        }
        let http = PrometheusMetricsBuilder::new("newsdesk")
            .registry(registry.clone())
            // Label by route pattern (`/api/v1/articles/{slug}`), never by raw path: one
            // series per route, whatever URLs clients or scanners send.
            .mask_unmatched_patterns("UNMATCHED")
            .exclude("/metrics")
            // Swagger UI's catch-all pattern cannot be labelled and would warn on every asset.
            .exclude_regex("^/docs")
            .build()?;
        let webhook_attempts = IntCounterVec::new(
            Opts::new(
                "newsdesk_webhook_attempts_total",
                "Webhook delivery attempts made by this process, by outcome.",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(webhook_attempts.clone()))?;
        Ok(Metrics {
            registry,
            http,
            webhook_attempts,
        })
    }
}

/// Reads the pool's state when Prometheus scrapes, so the gauges are never stale.
struct PoolCollector {
    pool: Pool,
    connections: IntGauge,
    idle: IntGauge,
    max: IntGauge,
}

impl PoolCollector {
    fn new(pool: Pool) -> prometheus::Result<Self> {
        Ok(PoolCollector {
            connections: IntGauge::with_opts(Opts::new(
                "newsdesk_db_pool_connections",
                "Database connections currently open (idle and in use).",
            ))?,
            idle: IntGauge::with_opts(Opts::new(
                "newsdesk_db_pool_idle_connections",
                "Database connections open and idle.",
            ))?,
            max: IntGauge::with_opts(Opts::new(
                "newsdesk_db_pool_max_connections",
                "Configured size of the database pool.",
            ))?,
            pool,
        })
    }
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        [&self.connections, &self.idle, &self.max]
            .into_iter()
            .flat_map(|g| g.desc())
            .collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let state = self.pool.state();
        self.connections.set(i64::from(state.connections));
        self.idle.set(i64::from(state.idle_connections));
        self.max.set(i64::from(self.pool.max_size()));
        [&self.connections, &self.idle, &self.max]
            .into_iter()
            .flat_map(|g| g.collect())
            .collect()
    }
}

/// The metrics endpoint, served and documented from this list.
pub const ENDPOINTS: &[Endpoint] = endpoints![scrape];

/// Prometheus text exposition of every metric of this process.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "get_metrics",
    security(),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4.", body = String, content_type = "text/plain"),
        (status = 401, response = crate::error::responses::Unauthorized),
        (status = 403, response = crate::openapi::OriginNotAllowed),
    )
)]
pub async fn scrape(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some(expected) = &state.config.metrics_token {
        authorize(&req, expected)?;
    }
    let families = state.metrics.registry.gather();
    let mut text = Vec::new();
    TextEncoder::new()
        .encode(&families, &mut text)
        .map_err(|e| ApiError::internal(format!("encoding metrics: {e}")))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "text/plain; version=0.0.4; charset=utf-8"))
        .insert_header(("Cache-Control", "no-store"))
        .body(text))
}

/// Checks `Authorization: Bearer <token>` against `NEWSDESK_METRICS_TOKEN`. Both sides are
/// hashed first and the digests compared in constant time, so neither the time taken nor an
/// early exit tells a guesser how much of the token, or its length, was right.
fn authorize(req: &HttpRequest, expected: &str) -> Result<(), ApiError> {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized(Code::AuthTokenMissing))?;
    let given = header
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized(Code::AuthBearerRequired))?;
    let same = Sha256::digest(given.trim().as_bytes()).ct_eq(&Sha256::digest(expected.as_bytes()));
    if bool::from(same) {
        Ok(())
    } else {
        Err(ApiError::unauthorized(Code::AuthTokenInvalid))
    }
}
