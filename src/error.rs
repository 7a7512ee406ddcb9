//! Every failure the API reports, and its RFC 7807 problem+json form.
//!
//! Handlers return `Result<_, ApiError>`; actix's own failures (bad JSON, wrong content type,
//! unknown route, …) are converted by [`crate::http`] into the same shape, so a client sees one
//! error format whatever went wrong.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::{self, Arg, Args, Code, FieldCode, Lang, Msg};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client is asked to wait when the database is unavailable.
const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// One invalid field of a request: which, why, and the parameters of the why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The request field, as named in the request body or query (`title`, `tags[2]`).
    pub field: String,
    pub code: FieldCode,
    pub args: Args,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode) -> Self {
        FieldError {
            field: field.into(),
            code,
            args: Vec::new(),
        }
    }

    /// The error of a text of `len` characters that must have `min..=max`: `required` when
    /// empty and one is needed, `too_short` or `too_long` with the bound.
    pub fn length(field: &str, len: usize, min: usize, max: usize) -> Option<FieldError> {
        if len < min {
            Some(if len == 0 {
                FieldError::new(field, FieldCode::Required)
            } else {
                FieldError::new(field, FieldCode::TooShort).arg("min", min)
            })
        } else if len > max {
            Some(FieldError::new(field, FieldCode::TooLong).arg("max", max))
        } else {
            None
        }
    }

    /// A parameter of the message (`max`, `min`), also sent to the client in `params`.
    pub fn arg(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    /// The field's entry of a problem document, in `lang`.
    pub fn render(&self, lang: Lang) -> InvalidField {
        InvalidField {
            field: self.field.clone(),
            code: self.code,
            message: i18n::field_text(lang, self.code, &self.field, &self.args),
            params: (!self.args.is_empty()).then(|| {
                self.args
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), value.clone()))
                    .collect()
            }),
        }
    }
}

/// One invalid field in a 422 answer.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[schema(as = FieldError)]
pub struct InvalidField {
    /// The request field, as named in the request body or query (`title`, `tags[2]`,
    /// `author_ids[0]`).
    pub field: String,
    /// Why it is invalid; stable, safe to match on.
    pub code: FieldCode,
    /// What is wrong with it, for a human, in the language of `Content-Language`.
    pub message: String,
    /// The parameters of the message (`max`, `min`, …), when it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub params: Option<std::collections::BTreeMap<String, Arg>>,
}

/// The kinds of problem, each a URI (`type`). Conflicts are told apart: a stale version, an
/// illegal state change, a taken unique value, a repeated submission and a resource still in
/// use each have their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum ProblemType {
    #[serde(rename = "urn:newsdesk:problem:bad-request")]
    BadRequest,
    #[serde(rename = "urn:newsdesk:problem:unauthorized")]
    Unauthorized,
    #[serde(rename = "urn:newsdesk:problem:forbidden")]
    Forbidden,
    #[serde(rename = "urn:newsdesk:problem:not-found")]
    NotFound,
    #[serde(rename = "urn:newsdesk:problem:method-not-allowed")]
    MethodNotAllowed,
    #[serde(rename = "urn:newsdesk:problem:request-timeout")]
    RequestTimeout,
    #[serde(rename = "urn:newsdesk:problem:version-conflict")]
    VersionConflict,
    #[serde(rename = "urn:newsdesk:problem:illegal-transition")]
    IllegalTransition,
    #[serde(rename = "urn:newsdesk:problem:already-exists")]
    AlreadyExists,
    #[serde(rename = "urn:newsdesk:problem:duplicate-submission")]
    DuplicateSubmission,
    #[serde(rename = "urn:newsdesk:problem:in-use")]
    InUse,
    #[serde(rename = "urn:newsdesk:problem:closed")]
    Closed,
    #[serde(rename = "urn:newsdesk:problem:payload-too-large")]
    PayloadTooLarge,
    #[serde(rename = "urn:newsdesk:problem:unsupported-media-type")]
    UnsupportedMediaType,
    #[serde(rename = "urn:newsdesk:problem:validation")]
    Validation,
    #[serde(rename = "urn:newsdesk:problem:rate-limited")]
    RateLimited,
    #[serde(rename = "urn:newsdesk:problem:headers-too-large")]
    HeadersTooLarge,
    #[serde(rename = "urn:newsdesk:problem:internal")]
    Internal,
    #[serde(rename = "urn:newsdesk:problem:unavailable")]
    Unavailable,
}

impl ProblemType {
    pub const ALL: [ProblemType; 19] = [
        ProblemType::BadRequest,
        ProblemType::Unauthorized,
        ProblemType::Forbidden,
        ProblemType::NotFound,
        ProblemType::MethodNotAllowed,
        ProblemType::RequestTimeout,
        ProblemType::VersionConflict,
        ProblemType::IllegalTransition,
        ProblemType::AlreadyExists,
        ProblemType::DuplicateSubmission,
        ProblemType::InUse,
        ProblemType::Closed,
        ProblemType::PayloadTooLarge,
        ProblemType::UnsupportedMediaType,
        ProblemType::Validation,
        ProblemType::RateLimited,
        ProblemType::HeadersTooLarge,
        ProblemType::Internal,
        ProblemType::Unavailable,
    ];

    /// The last segment of the URI, which also names its title in the catalogue.
    pub fn slug(self) -> &'static str {
        match self {
            ProblemType::BadRequest => "bad-request",
            ProblemType::Unauthorized => "unauthorized",
            ProblemType::Forbidden => "forbidden",
            ProblemType::NotFound => "not-found",
            ProblemType::MethodNotAllowed => "method-not-allowed",
            ProblemType::RequestTimeout => "request-timeout",
            ProblemType::VersionConflict => "version-conflict",
            ProblemType::IllegalTransition => "illegal-transition",
            ProblemType::AlreadyExists => "already-exists",
            ProblemType::DuplicateSubmission => "duplicate-submission",
            ProblemType::InUse => "in-use",
            ProblemType::Closed => "closed",
            ProblemType::PayloadTooLarge => "payload-too-large",
            ProblemType::UnsupportedMediaType => "unsupported-media-type",
            ProblemType::Validation => "validation",
            ProblemType::RateLimited => "rate-limited",
            ProblemType::HeadersTooLarge => "headers-too-large",
            ProblemType::Internal => "internal",
            ProblemType::Unavailable => "unavailable",
        }
    }

    /// The kind of a conflict, from its code.
    fn of_conflict(code: Code) -> ProblemType {
        match code {
            Code::ArticleVersionConflict | Code::CommentArticleChanged => ProblemType::VersionConflict,
            Code::ArticleIllegalTransition
            | Code::CommentIllegalTransition
            | Code::DeliveryPending
            | Code::AccountSelfDemote
            | Code::AccountSelfDeactivate => ProblemType::IllegalTransition,
            Code::ArticleSlugTaken
            | Code::ArticleSlugExhausted
            | Code::AuthorSlugTaken
            | Code::AuthorSlugExhausted
            | Code::AccountEmailTaken
            | Code::TaxonomySlugTaken
            | Code::ResourceExists => ProblemType::AlreadyExists,
            Code::CommentDuplicate => ProblemType::DuplicateSubmission,
            Code::CategoryHasChildren | Code::ResourceReferenced => ProblemType::InUse,
            Code::CommentsClosed => ProblemType::Closed,
            _ => ProblemType::IllegalTransition,
        }
    }
}

/// An RFC 7807 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:newsdesk:problem:validation",
    "title": "Dữ liệu không hợp lệ",
    "status": 422,
    "code": "validation.failed",
    "detail": "Một số trường chưa hợp lệ.",
    "errors": [{"field": "name", "code": "required", "message": "Vui lòng nhập họ tên."}]
}))]
pub struct Problem {
    /// A URI naming the kind of problem; stable, safe to match on.
    #[serde(rename = "type")]
    pub problem_type: ProblemType,
    /// Short summary of the kind of problem, in the language of `Content-Language`.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for a program: stable, safe to match on.
    pub code: Code,
    /// Explanation of this occurrence, in the language of `Content-Language`.
    pub detail: String,
    /// Invalid fields; present on validation failures only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<InvalidField>>,
    /// The request id (also in `X-Request-Id`); present on server errors, to quote when
    /// reporting them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0:?}")]
    BadRequest(Msg),
    #[error("unauthorized: {0:?}")]
    Unauthorized(Msg),
    #[error("forbidden: {0:?}")]
    Forbidden(Msg),
    #[error("not found: {0:?}")]
    NotFound(Msg),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {0:?}")]
    Conflict(Msg),
    #[error("payload too large: {0:?}")]
    PayloadTooLarge(Msg),
    #[error("unsupported media type: {0:?}")]
    UnsupportedMediaType(Msg),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many requests")]
    TooManyRequests { retry_after: u64, code: Code },
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// A status the HTTP layer produced itself (408, 431, …) without a variant of its own.
    #[error("{status}")]
    Http { status: StatusCode, msg: Msg },
}

impl ApiError {
    pub fn internal(cause: impl Into<String>) -> Self {
        ApiError::Internal(cause.into())
    }

    /// A 422 naming one field.
    pub fn validation(field: impl Into<String>, code: FieldCode) -> Self {
        ApiError::Validation(vec![FieldError::new(field, code)])
    }

    /// A 422 for one field error.
    pub fn invalid(error: FieldError) -> Self {
        ApiError::Validation(vec![error])
    }

    pub fn not_found(code: Code) -> Self {
        ApiError::NotFound(Msg::new(code))
    }

    pub fn conflict(code: Code) -> Self {
        ApiError::Conflict(Msg::new(code))
    }

    pub fn bad_request(code: Code) -> Self {
        ApiError::BadRequest(Msg::new(code))
    }

    pub fn unauthorized(code: Code) -> Self {
        ApiError::Unauthorized(Msg::new(code))
    }

    /// 429 with `Retry-After` until `free_at`, in whole seconds rounded up (a client that
    /// waits as told is not refused again for the fraction), at least a second.
    pub fn too_many_until(code: Code, free_at: chrono::NaiveDateTime, now: chrono::NaiveDateTime) -> Self {
        let millis = (free_at - now).num_milliseconds();
        ApiError::TooManyRequests {
            retry_after: (millis.saturating_add(999) / 1000).max(1).unsigned_abs(),
            code,
        }
    }

    /// A pool that cannot hand out a connection means the database is unreachable.
    pub fn from_pool(e: diesel::r2d2::PoolError) -> Self {
        ApiError::Unavailable(e.to_string())
    }

    /// The message a variant carries, when it carries one.
    fn msg(&self) -> Option<&Msg> {
        match self {
            ApiError::BadRequest(m)
            | ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::PayloadTooLarge(m)
            | ApiError::UnsupportedMediaType(m)
            | ApiError::Http { msg: m, .. } => Some(m),
            _ => None,
        }
    }

    /// The machine code of this problem.
    pub fn code(&self) -> Code {
        if let Some(m) = self.msg() {
            return m.code;
        }
        match self {
            ApiError::MethodNotAllowed => Code::MethodNotAllowed,
            ApiError::TooManyRequests { code, .. } => *code,
            ApiError::Unavailable(_) => Code::ServiceUnavailable,
            ApiError::Internal(_) => Code::InternalError,
            _ => Code::ValidationFailed,
        }
    }

    fn kind(&self) -> ProblemType {
        match self {
            ApiError::BadRequest(_) => ProblemType::BadRequest,
            ApiError::Unauthorized(_) => ProblemType::Unauthorized,
            ApiError::Forbidden(_) => ProblemType::Forbidden,
            ApiError::NotFound(_) => ProblemType::NotFound,
            ApiError::MethodNotAllowed => ProblemType::MethodNotAllowed,
            ApiError::Conflict(m) => ProblemType::of_conflict(m.code),
            ApiError::PayloadTooLarge(_) => ProblemType::PayloadTooLarge,
            ApiError::UnsupportedMediaType(_) => ProblemType::UnsupportedMediaType,
            ApiError::Validation(_) => ProblemType::Validation,
            ApiError::TooManyRequests { .. } => ProblemType::RateLimited,
            ApiError::Unavailable(_) => ProblemType::Unavailable,
            ApiError::Internal(_) => ProblemType::Internal,
            ApiError::Http { status, .. } => match *status {
                StatusCode::REQUEST_TIMEOUT => ProblemType::RequestTimeout,
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ProblemType::HeadersTooLarge,
                s if s.is_server_error() => ProblemType::Internal,
                _ => ProblemType::BadRequest,
            },
        }
    }

    /// The text shown to the client. Causes of 500s and 503s stay in the log.
    fn detail(&self, lang: Lang) -> String {
        match (self.msg(), self) {
            (Some(m), _) => m.text(lang),
            (None, ApiError::TooManyRequests { retry_after, code }) => {
                Msg::new(*code).arg("seconds", *retry_after).text(lang)
            }
            (None, other) => Msg::new(other.code()).text(lang),
        }
    }

    /// The problem document in `lang`.
    pub fn problem_in(&self, lang: Lang) -> Problem {
        let kind = self.kind();
        let request_id = match self {
            ApiError::Internal(_) | ApiError::Unavailable(_) => crate::http::current_request_id(),
            _ => None,
        };
        Problem {
            problem_type: kind,
            title: i18n::title(lang, kind.slug()),
            status: self.status_code().as_u16(),
            code: self.code(),
            detail: self.detail(lang),
            errors: match self {
                ApiError::Validation(errors) => Some(errors.iter().map(|e| e.render(lang)).collect()),
                _ => None,
            },
            request_id,
        }
    }

    /// The problem document in the language of the request being answered.
    pub fn problem(&self) -> Problem {
        self.problem_in(i18n::current())
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
            ApiError::Http { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(%cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let lang = i18n::current();
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        response.insert_header((header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag())));
        response.insert_header((header::VARY, HeaderValue::from_static("Accept-Language")));
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            ApiError::TooManyRequests { retry_after, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER.to_string()));
            }
            _ => {}
        }
        // The rest of a body that was too slow or too large may still be on its way; reading
        // it to keep the connection would hand the client the time it was just refused.
        if matches!(
            self.status_code(),
            StatusCode::REQUEST_TIMEOUT | StatusCode::PAYLOAD_TOO_LARGE
        ) {
            response.force_close();
        }
        let body = serde_json::to_vec(&self.problem_in(lang)).unwrap_or_else(|_| {
            br#"{"type":"urn:newsdesk:problem:internal","title":"Internal server error","status":500,"code":"internal.error","detail":"Internal server error"}"#
                .to_vec()
        });
        response.body(body)
    }
}

impl From<DieselError> for ApiError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => ApiError::not_found(Code::ResourceNotFound),
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
                ApiError::validation("body", FieldCode::InvalidCharacter)
            }
            // Services turn the violations they expect into messages naming the field (see
            // `unique_conflict`); one they did not expect is still a conflict, not a bug.
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                ApiError::conflict(Code::ResourceExists)
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                ApiError::conflict(Code::ResourceReferenced)
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// A unique-constraint violation as a 409 with the message of the first `(column, message)`
/// whose column the database names in its error (PostgreSQL names the constraint, SQLite
/// the `table.column`); any other error converts as usual.
pub fn unique_conflict(e: DieselError, by_column: &[(&str, Code)]) -> ApiError {
    if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &e {
        let named = format!(
            "{} {}",
            info.message(),
            info.constraint_name().unwrap_or_default()
        );
        if let Some((_, code)) = by_column.iter().find(|(column, _)| named.contains(column)) {
            return ApiError::conflict(*code);
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
