//! Every failure the API reports, and its RFC 7807 problem+json form.
//!
//! Handlers return `Result<_, ApiError>`; actix's own failures (bad JSON, wrong content type,
//! unknown route, …) are converted by [`crate::http`] into the same shape, so a client sees one
//! error format whatever went wrong.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client is asked to wait when the database is unavailable.
const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// One invalid field in a 422 answer.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The request field, as named in the request body or query (`title`, `tags[2]`).
    pub field: String,
    /// What is wrong with it, for a human.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 7807 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:newsdesk:problem:validation",
    "title": "Validation failed",
    "status": 422,
    "detail": "One or more fields are invalid.",
    "errors": [{"field": "title", "message": "must be 1 to 200 characters"}]
}))]
pub struct Problem {
    /// A URI naming the kind of problem; stable, safe to match on.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Explanation of this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Invalid fields; present on validation failures only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The request id (also in `X-Request-Id`); present on server errors, to quote when
    /// reporting them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many requests")]
    TooManyRequests { retry_after: u64 },
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn internal(cause: impl Into<String>) -> Self {
        ApiError::Internal(cause.into())
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// 429 with `Retry-After` until `free_at` (at least a second).
    pub fn too_many_until(free_at: chrono::NaiveDateTime, now: chrono::NaiveDateTime) -> Self {
        ApiError::TooManyRequests {
            retry_after: (free_at - now).num_seconds().max(1).unsigned_abs(),
        }
    }

    /// A pool that cannot hand out a connection means the database is unreachable.
    pub fn from_pool(e: diesel::r2d2::PoolError) -> Self {
        ApiError::Unavailable(e.to_string())
    }

    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest(_) => ("bad-request", "Malformed request"),
            ApiError::Unauthorized(_) => ("unauthorized", "Authentication required"),
            ApiError::Forbidden(_) => ("forbidden", "Not allowed"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            ApiError::Conflict(_) => ("conflict", "Conflict"),
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "Request body too large"),
            ApiError::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            ApiError::Validation(_) => ("validation", "Validation failed"),
            ApiError::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            ApiError::Unavailable(_) => ("unavailable", "Service unavailable"),
            ApiError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    /// The text shown to the client. Causes of 500s and 503s stay in the log.
    fn detail(&self) -> Option<Cow<'_, str>> {
        match self {
            ApiError::BadRequest(d)
            | ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::Conflict(d)
            | ApiError::PayloadTooLarge(d)
            | ApiError::UnsupportedMediaType(d) => Some(Cow::Borrowed(d)),
            ApiError::MethodNotAllowed => Some(Cow::Borrowed(
                "This resource does not support the request method.",
            )),
            ApiError::Validation(_) => Some(Cow::Borrowed("One or more fields are invalid.")),
            ApiError::TooManyRequests { retry_after } => Some(Cow::Owned(format!(
                "Rate limit reached; retry in {retry_after} seconds."
            ))),
            ApiError::Unavailable(_) => Some(Cow::Borrowed("The database is unreachable; retry shortly.")),
            ApiError::Internal(_) => Some(Cow::Borrowed(
                "The server failed to complete the request. Quote the request id when reporting it.",
            )),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.kind();
        let request_id = match self {
            ApiError::Internal(_) | ApiError::Unavailable(_) => crate::http::current_request_id(),
            _ => None,
        };
        Problem {
            problem_type: format!("urn:newsdesk:problem:{slug}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail: self.detail().map(Cow::into_owned),
            errors: match self {
                ApiError::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            request_id,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(%cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            ApiError::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER.to_string()));
            }
            _ => {}
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_else(|_| {
            br#"{"type":"urn:newsdesk:problem:internal","title":"Internal server error","status":500}"#
                .to_vec()
        });
        response.body(body)
    }
}

impl From<DieselError> for ApiError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => ApiError::NotFound("No such resource.".into()),
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => ApiError::Unavailable(info.message().to_owned()),
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, ref info)
                if is_unavailable_message(info.message()) =>
            {
                ApiError::Unavailable(info.message().to_owned())
            }
            // A NUL character that slipped past validation: PostgreSQL refuses it in text.
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, ref info)
                if info.message().contains("invalid byte sequence") =>
            {
                ApiError::validation("body", crate::text::NUL_MESSAGE)
            }
            // Services turn the violations they expect into messages naming the field (see
            // `unique_conflict`); one they did not expect is still a conflict, not a bug.
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                ApiError::Conflict("A resource with this value already exists.".into())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                ApiError::Conflict("Other resources still refer to this one.".into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// A unique-constraint violation as a 409 with the message of the first `(column, message)`
/// whose column the database names in its error (PostgreSQL names the constraint, SQLite
/// the `table.column`); any other error converts as usual.
pub fn unique_conflict(e: DieselError, by_column: &[(&str, &str)]) -> ApiError {
    if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &e {
        let named = format!(
            "{} {}",
            info.message(),
            info.constraint_name().unwrap_or_default()
        );
        if let Some((_, message)) = by_column.iter().find(|(column, _)| named.contains(column)) {
            return ApiError::Conflict((*message).to_owned());
        }
    }
    ApiError::from(e)
}

/// PostgreSQL reports a server shutting down, and SQLite a locked or unopenable file, through
/// error kinds diesel does not classify; these mean "try again later", not "bug".
fn is_unavailable_message(message: &str) -> bool {
    const SIGNS: [&str; 6] = [
        "terminating connection",
        "server closed the connection",
        "the database system is shutting down",
        "the database system is starting up",
        "database is locked",
        "unable to open database file",
    ];
    SIGNS.iter().any(|sign| message.contains(sign))
}

/// Reusable OpenAPI responses for the problems every operation may answer with.
pub mod responses {
    use utoipa::ToResponse;

    use super::Problem;

    #[derive(ToResponse)]
    #[response(
        description = "Malformed body or query string.",
        content_type = "application/problem+json"
    )]
    pub struct BadRequest(#[allow(dead_code)] Problem);

    #[derive(ToResponse)]
    #[response(
        description = "No, invalid or expired access token (`WWW-Authenticate: Bearer`).",
        content_type = "application/problem+json",
        headers(("WWW-Authenticate" = String, description = "Always `Bearer`."))
    )]
    pub struct Unauthorized(#[allow(dead_code)] Problem);

    #[derive(ToResponse)]
    #[response(
        description = "The caller's role may not do this.",
        content_type = "application/problem+json"
    )]
    pub struct Forbidden(#[allow(dead_code)] Problem);

    #[derive(ToResponse)]
    #[response(description = "No such resource.", content_type = "application/problem+json")]
    pub struct NotFound(#[allow(dead_code)] Problem);

    #[derive(ToResponse)]
    #[response(
        description = "Conflict: a unique value is taken, the version is stale, or the state change is illegal.",
        content_type = "application/problem+json"
    )]
    pub struct Conflict(#[allow(dead_code)] Problem);

    #[derive(ToResponse)]
    #[response(
        description = "The JSON body is over 1 MiB.",
        content_type = "application/problem+json"
    )]
    pub struct PayloadTooLarge(#[allow(dead_code)] Problem);

    #[derive(ToResponse)]
    #[response(
        description = "The body is not `application/json`.",
        content_type = "application/problem+json"
    )]
    pub struct UnsupportedMediaType(#[allow(dead_code)] Problem);

    #[derive(ToResponse)]
    #[response(
        description = "Validation failed; `errors` names each invalid field.",
        content_type = "application/problem+json"
    )]
    pub struct ValidationFailed(#[allow(dead_code)] Problem);

    #[derive(ToResponse)]
    #[response(
        description = "Rate limited; retry after `Retry-After` seconds.",
        content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "Seconds to wait."))
    )]
    pub struct TooManyRequests(#[allow(dead_code)] Problem);

    #[derive(ToResponse)]
    #[response(
        description = "The database is unreachable; retry after `Retry-After` seconds.",
        content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "Seconds to wait."))
    )]
    pub struct Unavailable(#[allow(dead_code)] Problem);
}
