//! `/api/v1/admin/audit`: the audit log, for administrators.

use actix_web::web;

use super::dto::AuditEntry;
use super::service::{self, AuditQuery};
use crate::auth::AuthUser;
use crate::envelope::{List, PageQuery};
use crate::error::ApiError;
use crate::http::Query;
use crate::openapi::bodies::ListAuditEntry;
use crate::routing::{Endpoint, State, endpoints};

/// The handlers of this module, served and documented from this one list.
pub const ENDPOINTS: &[Endpoint] = endpoints![list_audit,];

/// Who did what to which resource, and when, newest first (admin). Editorial, moderation,
/// account, taxonomy and webhook actions, and every sign-in attempt, successful or not.
#[utoipa::path(
    get, path = "/api/v1/admin/audit", tag = "audit", operation_id = "list_audit",
    params(PageQuery, AuditQuery),
    responses(
        (status = 200, description = "Audit entries, newest first.", body = ListAuditEntry),
    )
)]
pub async fn list_audit(
    user: AuthUser,
    state: State,
    page: Query<PageQuery>,
    query: Query<AuditQuery>,
) -> Result<web::Json<List<AuditEntry>>, ApiError> {
    let (page, query) = (page.into_inner(), query.into_inner());
    state
        .json(move |conn| service::list(conn, &user, page, query))
        .await
}
