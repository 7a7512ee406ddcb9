//! Operations endpoints: liveness, readiness and Prometheus metrics.

pub mod metrics;

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::Object;

use crate::app::AppState;
use crate::envelope::Data;
use crate::error::ApiError;
use crate::error::responses::Unavailable;
use crate::openapi::bodies::{DataHealth, DataReadiness};
use crate::openapi::{OriginNotAllowed, one_of_strings};
use crate::routing::{Endpoint, endpoints};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` while the process serves requests.
    #[schema(schema_with = health_status)]
    pub status: String,
}

fn health_status() -> Object {
    one_of_strings(&["ok"], "`ok` while the process serves requests.")
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` when the database answered.
    #[schema(schema_with = readiness_status)]
    pub status: String,
    /// Which database this process uses: `sqlite` or `postgres`.
    #[schema(schema_with = database_kind)]
    pub database: String,
}

fn readiness_status() -> Object {
    one_of_strings(&["ready"], "`ready` when the database answered.")
}

fn database_kind() -> Object {
    one_of_strings(&["sqlite", "postgres"], "Which database this process uses.")
}

/// The handlers of this module, served and documented from this one list.
pub const ENDPOINTS: &[Endpoint] = endpoints![healthz, readyz,];

/// Liveness: the process is up and serving HTTP. Does not touch the database.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "get_health",
    security(),
    responses(
        (status = 200, description = "The process is up.", body = DataHealth),
        (status = 403, response = OriginNotAllowed),
    )
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Data::new(Health { status: "ok".into() }))
}

/// Readiness: the database answers a query. Load balancers route traffic by this.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "get_readiness",
    security(),
    responses(
        (status = 200, description = "The database is reachable.", body = DataReadiness),
        (status = 403, response = OriginNotAllowed), (status = 503, response = Unavailable),
    )
)]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    web::block(move || db.ready())
        .await
        .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))??;
    let database = match state.db.backend() {
        crate::db::Backend::Postgres => "postgres",
        crate::db::Backend::Sqlite => "sqlite",
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Data::new(Readiness {
            status: "ready".into(),
            database: database.into(),
        })))
}
