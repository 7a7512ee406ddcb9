//! HTTP plumbing shared by every route: request ids and request logs, extractor limits, and
//! the conversion of actix's own error responses into problem+json.

use std::time::Instant;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PathError;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::error::{ApiError, FieldError, PROBLEM_JSON};
use crate::i18n::{self, Code, FieldCode, Lang, Msg};

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
    let lang = Lang::negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);

    let result = REQUEST_ID
        .scope(id.clone(), i18n::scope(lang, next.call(req)))
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

/// The methods the API knows by name; any other is seen (by routing, metrics and everything
/// else inside the request log) as `OTHER`, so a client inventing methods cannot make new
/// metric series. The request log still shows the method as sent.
const KNOWN_METHODS: [Method; 9] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
    Method::TRACE,
    Method::CONNECT,
];

/// No route has it, so an unknown method gets the same 405 as any unsupported one.
static OTHER_METHOD: std::sync::LazyLock<Method> = std::sync::LazyLock::new(|| {
    Method::from_bytes(b"OTHER").unwrap_or_else(|e| unreachable!("OTHER is a method token: {e}"))
});

/// Answers `HEAD` on every `GET` route by running the request as a `GET` and sending the
/// answer's status and headers without its body (RFC 9110 §9.3.2), and folds unknown methods
/// into `OTHER`. A `405` lists `HEAD` wherever it lists `GET`.
///
/// HEAD requests therefore count as `GET` in the metrics.
pub async fn normalise_method(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let head = req.method() == Method::HEAD;
    if head {
        req.head_mut().method = Method::GET;
    } else if !KNOWN_METHODS.contains(req.method()) {
        req.head_mut().method = OTHER_METHOD.clone();
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    if let Some(allow) = res.headers().get(header::ALLOW).and_then(|v| v.to_str().ok()) {
        let methods: Vec<&str> = allow.split(',').map(str::trim).collect();
        if methods.contains(&"GET") && !methods.contains(&"HEAD") {
            let with_head = format!("{allow}, HEAD");
            if let Ok(value) = HeaderValue::from_str(&with_head) {
                res.headers_mut().insert(header::ALLOW, value);
            }
        }
    }
    if head {
        res = res.map_body(|_, body| BoxBody::new(HeadBody(body.size())));
    }
    Ok(res)
}

/// The body of an answer to `HEAD`: the size of the `GET` answer's body (which the HTTP layer
/// sends as `Content-Length`) and no bytes.
struct HeadBody(BodySize);

impl MessageBody for HeadBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        self.0
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<web::Bytes, Self::Error>>> {
        std::task::Poll::Ready(None)
    }
}

/// A JSON request body, like `web::Json`, whose errors name the field at fault: `{"name": 5}`
/// is a 422 on `name` with code `wrong_type`, not a parser message about line and column.
pub struct Json<T>(pub T);

/// `into_inner` and `Deref` to the value, as actix's own extractors have.
macro_rules! wrapper {
    ($($name:ident),*) => {$(
        impl<T> $name<T> {
            pub fn into_inner(self) -> T {
                self.0
            }
        }

        impl<T> std::ops::Deref for $name<T> {
            type Target = T;

            fn deref(&self) -> &T {
                &self.0
            }
        }
    )*};
}
wrapper!(Json, Query);

/// Whether the request says its body is JSON (`application/json` or any `+json` type).
fn is_json(req: &HttpRequest) -> bool {
    use actix_web::HttpMessage;
    req.mime_type()
        .ok()
        .flatten()
        .is_some_and(|ct| ct.subtype() == actix_web::mime::JSON || ct.suffix() == Some(actix_web::mime::JSON))
}

fn too_large() -> ApiError {
    ApiError::PayloadTooLarge(Msg::new(Code::BodyTooLarge).arg("max", JSON_LIMIT))
}

/// The answer to a body that did not arrive in time. The connection is closed after it (see
/// [`ApiError`]'s response): the rest of the body may still be on its way.
fn body_timed_out() -> ApiError {
    ApiError::Http {
        status: StatusCode::REQUEST_TIMEOUT,
        msg: Msg::new(Code::RequestTimeout),
    }
}

/// How long a request body may take to arrive, from the settings.
fn body_timeout(req: &HttpRequest) -> std::time::Duration {
    req.app_data::<web::Data<crate::app::AppState>>()
        .map_or(DEFAULT_BODY_TIMEOUT, |state| state.config.body_timeout)
}

const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn unsupported_type() -> ApiError {
    ApiError::UnsupportedMediaType(Msg::new(Code::BodyUnsupportedType))
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let body = read_body(req, payload);
        Box::pin(async move {
            if !json {
                return Err(unsupported_type().into());
            }
            Ok(Json(parse_json(&body.await?)?))
        })
    }
}

/// A JSON body that may be left out: an empty body (or JSON `null`) is `None`, anything else
/// must be a valid `T` sent as JSON. (`Option<Json<T>>` would read a malformed body as no
/// body, and e.g. publish at once what the caller meant to schedule.)
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let body = read_body(req, payload);
        Box::pin(async move {
            let body = body.await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(None));
            }
            if !json {
                return Err(unsupported_type().into());
            }
            Ok(OptionalJson(parse_json(&body)?))
        })
    }
}

/// The whole request body: at most [`JSON_LIMIT`] bytes (413 beyond, before reading when the
/// length is declared) within the body deadline (408 after it).
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl std::future::Future<Output = Result<web::BytesMut, ApiError>> + 'static {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let deadline = body_timeout(req);
    let mut payload = payload.take();
    async move {
        if declared.is_some_and(|n| n > JSON_LIMIT) {
            return Err(too_large());
        }
        let read = async {
            let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0));
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| ApiError::bad_request(Code::BodyUnreadable))?;
                if body.len() + chunk.len() > JSON_LIMIT {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        // One deadline for the whole body, not per chunk: a client sending a byte a second
        // would otherwise hold the connection as long as it likes.
        tokio::time::timeout(deadline, read)
            .await
            .map_err(|_| body_timed_out())?
    }
}

/// Parses a JSON body; a malformed one is a 400, a well-formed one of the wrong shape a 422
/// naming the field.
fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        json_error(&path, e.into_inner())
    })?;
    de.end().map_err(|e| json_error(".", e))?;
    Ok(value)
}

fn json_error(path: &str, e: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => ApiError::invalid(shape_error(path, &e.to_string())),
        Category::Syntax | Category::Eof | Category::Io => ApiError::BadRequest(
            Msg::new(Code::BodyMalformedJson)
                .arg("line", e.line())
                .arg("column", e.column()),
        ),
    }
}

/// The field error of a body that is JSON but not the expected shape, from serde's message
/// (its wording is part of serde's API: `missing field `x``, `invalid type: …`).
fn shape_error(path: &str, message: &str) -> FieldError {
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let within = |name: String| match path {
        "." | "" => name,
        p if p == name || p.ends_with(&format!(".{name}")) => p.to_owned(),
        p => format!("{p}.{name}"),
    };
    let field = match path {
        "." | "" => "body".to_owned(),
        p => p.to_owned(),
    };
    if let Some(name) = named("missing field `") {
        FieldError::new(within(name), FieldCode::Required)
    } else if let Some(name) = named("unknown field `") {
        FieldError::new(within(name), FieldCode::UnknownField)
    } else if let Some(name) = named("duplicate field `") {
        FieldError::new(within(name), FieldCode::Duplicate)
    } else if message.starts_with("invalid type:") {
        FieldError::new(field, FieldCode::WrongType)
    } else {
        // `invalid value`, `unknown variant`, `invalid length`, numbers out of range, and the
        // messages of our own deserialisers.
        FieldError::new(field, FieldCode::InvalidValue)
    }
}

/// A query string, like `web::Query`, whose errors name the parameter at fault.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(req.query_string().as_bytes()));
        let parsed = serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            let name = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
                .map(str::to_owned)
                .or_else(|| (path != ".").then_some(path));
            match name {
                Some(name) => ApiError::BadRequest(Msg::new(Code::QueryInvalidParam).arg("name", name)),
                None => ApiError::bad_request(Code::QueryInvalid),
            }
            .into()
        });
        std::future::ready(parsed.map(Query))
    }
}

/// A path segment that does not parse (`/articles/abc` where an id is expected) names no
/// resource, so it is a 404 rather than a 400.
fn path_error(_e: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found(Code::ResourceNotFound).into()
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
        StatusCode::NOT_FOUND => ApiError::not_found(Code::RouteNotFound),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => unsupported_type(),
        s if s.is_server_error() => ApiError::internal(format!("unhandled {s} response")),
        StatusCode::BAD_REQUEST => ApiError::bad_request(Code::RequestMalformed),
        StatusCode::REQUEST_TIMEOUT => ApiError::Http {
            status,
            msg: Msg::new(Code::RequestTimeout),
        },
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ApiError::Http {
            status,
            msg: Msg::new(Code::HeadersTooLarge),
        },
        s => ApiError::Http {
            status: s,
            msg: Msg::new(Code::RequestMalformed),
        },
    };
    let allow = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut response = error.error_response();
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
    let malformed =
        |what: &str| ApiError::BadRequest(Msg::new(Code::CorsPreflightMalformed).arg("what", what));
    match error {
        CorsError::OriginNotAllowed => {
            ApiError::Forbidden(Msg::new(Code::CorsOriginRefused).arg("origin", sent(header::ORIGIN)))
        }
        CorsError::MethodNotAllowed => ApiError::Forbidden(
            Msg::new(Code::CorsMethodRefused)
                .arg("method", sent(header::ACCESS_CONTROL_REQUEST_METHOD))
                .arg("allowed", crate::app::CORS_METHODS.join(", ")),
        ),
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
            ApiError::Forbidden(
                Msg::new(Code::CorsHeadersRefused)
                    .arg("count", refused.len())
                    .arg("headers", refused.join(", "))
                    .arg(
                        "allowed",
                        if allowed.is_empty() {
                            "-".to_owned()
                        } else {
                            allowed.join(", ")
                        },
                    ),
            )
        }
        CorsError::MissingOrigin => malformed("origin"),
        CorsError::MissingRequestMethod | CorsError::BadRequestMethod => malformed("method"),
        CorsError::BadRequestHeaders => malformed("headers"),
        _ => malformed("other"),
    }
}

/// Browsers and shared caches may keep a public answer 30 seconds before revalidating.
pub const PUBLIC_CACHE_CONTROL: &str = "public, max-age=30";

/// A public JSON answer with an `ETag` (a hash of the body) and `Cache-Control`; a matching
/// `If-None-Match` gets 304 without the body.
pub fn cached_json(req: &HttpRequest, value: &impl serde::Serialize) -> Result<HttpResponse, ApiError> {
    Ok(cached_body(req, "application/json", json_bytes(value)?))
}

/// A value as a JSON body.
///
/// Written by `sonic-rs`, which looks for the characters a JSON string must escape 32 bytes
/// at a time: `serde_json` looks at them one by one, and Vietnamese titles and summaries
/// made that 7% of an uncached list's samples. The bytes are the same as `serde_json`'s
/// (see the test below).
pub fn json_bytes(value: &impl serde::Serialize) -> Result<Vec<u8>, ApiError> {
    sonic_rs::to_vec(value).map_err(|e| ApiError::internal(e.to_string()))
}

/// Like [`cached_json`], for a body already rendered (feeds, sitemaps).
pub fn cached_body(req: &HttpRequest, content_type: &'static str, body: Vec<u8>) -> HttpResponse {
    let etag = etag_of(&body);
    respond_tagged(req, content_type, &etag, body.into())
}

/// The strong ETag of a body: its 128-bit XXH3 hash, the same in every process. A tag only
/// has to change when the body does; a cryptographic hash bought nothing for it and cost
/// 4% of an uncached list's time (SHA-256 over 16 KB) against a twentieth of that.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(body))
}

/// A public answer with its ETag: 304 without a body when `If-None-Match` already names it.
pub fn respond_tagged(
    req: &HttpRequest,
    content_type: &'static str,
    etag: &str,
    body: actix_web::web::Bytes,
) -> HttpResponse {
    respond_kept(req, content_type, [etag, etag], body, None)
}

/// Like [`respond_tagged`], for an answer that has a plain and a gzipped form. `etags` are the
/// ETag sent, then the other form's, which `If-None-Match` may name as well: both stand for
/// the same answer. `gzip` says whether `body` is gzipped; it is `None` for an answer that
/// has only one form, and otherwise the response says that it varies by `Accept-Encoding`.
pub fn respond_kept(
    req: &HttpRequest,
    content_type: &'static str,
    etags: [&str; 2],
    body: actix_web::web::Bytes,
    gzip: Option<bool>,
) -> HttpResponse {
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| etags.contains(&t.trim()) || t.trim() == "*"));
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etags[0]))
        .insert_header((header::CACHE_CONTROL, PUBLIC_CACHE_CONTROL));
    if let Some(gzip) = gzip {
        res.insert_header((header::VARY, "Accept-Encoding"));
        if gzip && !matches {
            res.insert_header((header::CONTENT_ENCODING, "gzip"));
        }
    }
    if matches {
        res.finish()
    } else if body.len() > STREAMED_FROM {
        res.content_type(content_type)
            .body(actix_web::body::SizedStream::new(body.len() as u64, slices(body)))
    } else {
        res.content_type(content_type).body(body)
    }
}

/// Bodies larger than this are handed to the connection in slices of this size.
///
/// A body given whole is copied whole into the connection's write buffer, which keeps that
/// capacity for as long as the connection lives: a crawler fetching 5 MB sitemap pages on
/// 64 connections left the process holding over 300 MB. Slices of a kept body cost no copy.
const STREAMED_FROM: usize = 64 * 1024;

fn slices(
    body: actix_web::web::Bytes,
) -> impl futures_util::Stream<Item = Result<actix_web::web::Bytes, std::convert::Infallible>> {
    let count = body.len().div_ceil(STREAMED_FROM);
    futures_util::stream::iter((0..count).map(move |i| {
        let start = i * STREAMED_FROM;
        Ok(body.slice(start..(start + STREAMED_FROM).min(body.len())))
    }))
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

#[cfg(test)]
mod json_tests {
    use super::json_bytes;

    #[test]
    fn json_bodies_are_the_bytes_serde_json_writes() -> Result<(), Box<dyn std::error::Error>> {
        #[derive(serde::Serialize)]
        struct Item<'a> {
            title: &'a str,
            summary: Option<&'a str>,
            views: i64,
            ratio: f64,
            tags: Vec<&'a str>,
            extra: serde_json::Value,
        }
        let texts = [
            "",
            "HNP - Sáng 14/01, Ủy ban nhân dân Thành phố tổ chức hội nghị",
            "\"trích dẫn\" \\ đường/dẫn",
            "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f}",
            "<script>alert('x')</script> &amp;",
            "😀 \u{2028}\u{2029} ﻿",
            &"Đoạn văn tiếng Việt có dấu. ".repeat(40),
        ];
        for (i, text) in texts.iter().enumerate() {
            let item = Item {
                title: text,
                summary: (i % 2 == 0).then_some(*text),
                views: i64::MAX - i as i64,
                ratio: 0.1 + i as f64 * 1e-7,
                tags: vec![text, "Hà Nội"],
                extra: serde_json::json!({"nested": [text, null, 1.5e300, -0.0, true], "số": i}),
            };
            let ours = json_bytes(&item).map_err(|e| format!("{e:?}"))?;
            let theirs = serde_json::to_vec(&item)?;
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs),
                "{text:?}"
            );
        }
        Ok(())
    }
}
