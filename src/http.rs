//! HTTP plumbing shared by every route: request ids and request logs, extractor limits, and
//! the conversion of actix's own error responses into problem+json.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use tracing::Instrument;

use crate::error::{ApiError, PROBLEM_JSON};

/// JSON bodies larger than this are refused with 413 before they are parsed.
pub const JSON_LIMIT: usize = 1024 * 1024;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, when called from inside one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Keeps a caller's id (a load balancer's, say) when it is short and plain; otherwise makes one.
fn request_id(headers: &HeaderMap) -> String {
    if let Some(given) = headers.get(&X_REQUEST_ID).and_then(|v| v.to_str().ok())
        && (1..=64).contains(&given.len())
        && given
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return given.to_owned();
    }
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // The OS generator failing is not a reason to refuse the request; a time-based id is
        // still unique enough to find the request in the log.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    hex::encode(bytes)
}

/// Probes are polled constantly; logging them at `info` would drown the requests that matter.
fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Gives every request an id (returned as `X-Request-Id`, present on every log line of the
/// request) and logs one line when it finishes.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = request_id(req.headers());
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);

    let result = REQUEST_ID
        .scope(id.clone(), next.call(req))
        .instrument(span.clone())
        .await;
    // Inner layers turn failures into responses (handlers, CORS, error rewriting), so an
    // `Err` here is unexpected; it still gets logged with its request id.
    let mut res = match result {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            span.in_scope(|| tracing::error!(error = %e, "request failed in middleware"));
            return Err(e);
        }
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }

    let status = res.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let route = res.request().match_pattern().unwrap_or_default();
    span.in_scope(|| {
        if is_probe(&path) {
            tracing::debug!(status, elapsed_ms, route, "request finished");
        } else {
            tracing::info!(status, elapsed_ms, route, "request finished");
        }
    });
    Ok(res)
}

impl From<JsonPayloadError> for ApiError {
    fn from(e: JsonPayloadError) -> Self {
        match e {
            JsonPayloadError::OverflowKnownLength { limit, .. } | JsonPayloadError::Overflow { limit } => {
                ApiError::PayloadTooLarge(format!("JSON bodies are limited to {limit} bytes."))
            }
            JsonPayloadError::ContentType => {
                ApiError::UnsupportedMediaType("Send the body as application/json.".into())
            }
            JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::validation("body", e.to_string()),
            JsonPayloadError::Deserialize(e) => {
                ApiError::BadRequest(format!("The body is not valid JSON: {e}"))
            }
            JsonPayloadError::Serialize(e) => ApiError::internal(e.to_string()),
            other => ApiError::BadRequest(format!("The body could not be read: {other}")),
        }
    }
}

fn json_error(e: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::from(e).into()
}

fn query_error(e: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("Invalid query string: {e}")).into()
}

/// A path segment that does not parse (`/articles/abc` where an id is expected) names no
/// resource, so it is a 404 rather than a 400.
fn path_error(_e: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound("No such resource.".into()).into()
}

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(JSON_LIMIT)
        .error_handler(json_error)
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(query_error)
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(path_error)
}

/// Turns error responses that actix produced itself (unknown route, wrong method, …) into
/// problem+json; responses that already are problems pass through untouched.
pub fn problem_for_plain_errors<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }

    let refused = res
        .response()
        .error()
        .and_then(|e| e.as_error::<actix_cors::CorsError>())
        .map(|e| cors_refusal(e, res.request()));
    if let Some(refusal) = refused {
        let (req, _) = res.into_parts();
        return Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, refusal.error_response()).map_into_right_body(),
        ));
    }

    let status = res.status();
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound("No route matches this path.".into()),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge("The request body is too large.".into()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("Send the body as application/json.".into())
        }
        s if s.is_server_error() => ApiError::internal(format!("unhandled {s} response")),
        s => ApiError::BadRequest(
            s.canonical_reason()
                .unwrap_or("The request could not be processed.")
                .to_owned(),
        ),
    };
    let allow = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut response = error.error_response();
    if response.status() != status {
        // A status without a variant of its own (408, 431, …): keep actix's status and say so.
        let mut problem = error.problem();
        problem.status = status.as_u16();
        problem.title = status.canonical_reason().unwrap_or("Request failed").to_owned();
        problem.detail = None;
        response = HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
            .body(serde_json::to_vec(&problem).unwrap_or_default());
    }
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}

/// A preflight the CORS middleware refused, as a problem naming what was refused.
///
/// A well-formed preflight asking for something the configuration does not allow (an
/// origin, a method, a request header) is a 403: the request is understood and refused by
/// policy, and the fix is in the server's settings, not in the request. A malformed one is a
/// 400. Browsers never show either answer to scripts; the `detail` is for the developer
/// reading the network panel.
pub fn cors_refusal(error: &actix_cors::CorsError, req: &HttpRequest) -> ApiError {
    use actix_cors::CorsError;
    let sent = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    };
    match error {
        CorsError::OriginNotAllowed => ApiError::Forbidden(format!(
            "CORS: the origin {} may not call this API from a browser.",
            sent(header::ORIGIN)
        )),
        CorsError::MethodNotAllowed => ApiError::Forbidden(format!(
            "CORS: the method {} is not allowed; allowed: {}.",
            sent(header::ACCESS_CONTROL_REQUEST_METHOD),
            crate::app::CORS_METHODS.join(", ")
        )),
        CorsError::HeadersNotAllowed => {
            let allowed: Vec<&str> = req
                .app_data::<web::Data<crate::app::AppState>>()
                .map(|state| state.config.cors_headers.iter().map(HeaderName::as_str).collect())
                .unwrap_or_default();
            let requested = sent(header::ACCESS_CONTROL_REQUEST_HEADERS).to_ascii_lowercase();
            let refused: Vec<&str> = requested
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty() && !allowed.contains(h))
                .collect();
            let allowed = if allowed.is_empty() {
                "none".to_owned()
            } else {
                allowed.join(", ")
            };
            ApiError::Forbidden(match refused.as_slice() {
                [one] => format!("CORS: the request header {one} is not allowed; allowed: {allowed}."),
                many => format!(
                    "CORS: the request headers {} are not allowed; allowed: {allowed}.",
                    many.join(", ")
                ),
            })
        }
        CorsError::MissingOrigin => ApiError::BadRequest("CORS: a preflight needs an Origin header.".into()),
        CorsError::MissingRequestMethod | CorsError::BadRequestMethod => {
            ApiError::BadRequest("CORS: Access-Control-Request-Method must name one method.".into())
        }
        CorsError::BadRequestHeaders => ApiError::BadRequest(
            "CORS: Access-Control-Request-Headers must be a comma-separated list of header names.".into(),
        ),
        other => ApiError::BadRequest(format!("CORS: {other}.")),
    }
}

/// Browsers and shared caches may keep a public answer 30 seconds before revalidating.
const PUBLIC_CACHE_CONTROL: &str = "public, max-age=30";

/// A public JSON answer with an `ETag` (a hash of the body) and `Cache-Control`; a matching
/// `If-None-Match` gets 304 without the body.
pub fn cached_json(req: &HttpRequest, value: &impl serde::Serialize) -> Result<HttpResponse, ApiError> {
    Ok(cached_body(req, "application/json", json_bytes(value)?))
}

/// A value as a JSON body.
pub fn json_bytes(value: &impl serde::Serialize) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| ApiError::internal(e.to_string()))
}

/// Like [`cached_json`], for a body already rendered (feeds, sitemaps).
pub fn cached_body(req: &HttpRequest, content_type: &'static str, body: Vec<u8>) -> HttpResponse {
    let etag = etag_of(&body);
    respond_tagged(req, content_type, &etag, body.into())
}

/// The strong ETag of a body: a truncated SHA-256, the same in every process.
pub fn etag_of(body: &[u8]) -> String {
    use sha2::Digest;
    format!("\"{}\"", hex::encode(&sha2::Sha256::digest(body)[..12]))
}

/// A public answer with its ETag: 304 without a body when `If-None-Match` already names it.
pub fn respond_tagged(
    req: &HttpRequest,
    content_type: &'static str,
    etag: &str,
    body: actix_web::web::Bytes,
) -> HttpResponse {
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, PUBLIC_CACHE_CONTROL));
    if matches {
        res.finish()
    } else {
        res.content_type(content_type).body(body)
    }
}

/// The address of the client that sent the request.
///
/// Without trusted proxies this is the TCP peer. When the peer is a trusted proxy, the
/// `X-Forwarded-For` entries are read from the right (each proxy appends the address it saw)
/// and the first one that is not itself a trusted proxy is the client. Entries left of it
/// were written by the client and prove nothing, so they are never used.
pub fn client_ip(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    // Multiple headers are one list, in order (RFC 9110 §5.3).
    let entries: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for entry in entries.into_iter().rev() {
        let Ok(ip) = entry.trim().parse::<std::net::IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Some(client)
}
