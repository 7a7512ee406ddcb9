//! The API's endpoints, declared once. Each feature lists its handlers with [`endpoints!`]; that
//! one list registers the routes with actix ([`register`]) and puts their operations in the
//! OpenAPI document ([`document`]), so a route cannot be served undocumented or documented
//! unserved. The path, methods and operation come from the handler's `#[utoipa::path]`.

use std::collections::BTreeMap;

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, Route, web};
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{OpenApi, RefOr, schema::Schema};

use crate::app::AppState;
use crate::db::Db;
use crate::envelope::Data;
use crate::error::ApiError;
use crate::{articles, audit, auth, authors, comments, feeds, media, ops, taxonomy, webhooks};

/// One handler: where it is served and how it is documented.
pub struct Endpoint {
    /// The documented path, e.g. `/api/v1/articles/{slug}`.
    pub path: fn() -> String,
    /// The actix pattern where it is stricter than the documented path (a segment with a
    /// regular expression); otherwise the path itself.
    pub pattern: Option<&'static str>,
    pub methods: fn() -> Vec<HttpMethod>,
    pub operation: fn() -> Operation,
    /// Adds the schemas the operation's bodies and parameters refer to.
    pub schemas: fn(&mut Vec<(String, RefOr<Schema>)>),
    /// The handler as an actix route without its method guard.
    pub route: fn() -> Route,
}

/// `endpoints![handler, other = "/actix/{pattern:[0-9]+}", …]`: the endpoints of handlers
/// annotated with `#[utoipa::path]` in the current module.
///
/// It reads the `__path_<handler>` type that the annotation generates, through the same traits
/// utoipa's own `#[openapi(paths(…))]` uses (`SchemaReferences` is in its `__dev` module):
/// with utoipa pinned in `Cargo.lock`, an upgrade that changes them fails to compile rather
/// than leaving an operation out.
macro_rules! endpoints {
    ($($handler:ident $(= $pattern:literal)?),* $(,)?) => {
        pastey::paste! {
            &[$($crate::routing::Endpoint {
                path: <[<__path_ $handler>] as utoipa::Path>::path,
                pattern: $crate::routing::endpoints!(@pattern $($pattern)?),
                methods: <[<__path_ $handler>] as utoipa::Path>::methods,
                operation: $crate::routing::operation::<[<__path_ $handler>]>,
                schemas: <[<__path_ $handler>] as utoipa::__dev::SchemaReferences>::schemas,
                route: || actix_web::web::route().to($handler),
            }),*]
        }
    };
    (@pattern) => { None };
    (@pattern $pattern:literal) => { Some($pattern) };
}
pub(crate) use endpoints;

/// Every endpoint of the API, feature by feature.
pub fn all() -> impl Iterator<Item = &'static Endpoint> {
    [
        ops::ENDPOINTS,
        ops::metrics::ENDPOINTS,
        auth::routes::ENDPOINTS,
        authors::routes::ENDPOINTS,
        articles::routes::ENDPOINTS,
        articles::preview::ENDPOINTS,
        comments::routes::ENDPOINTS,
        feeds::routes::ENDPOINTS,
        taxonomy::routes::ENDPOINTS,
        webhooks::routes::ENDPOINTS,
        audit::routes::ENDPOINTS,
        media::routes::ENDPOINTS,
    ]
    .into_iter()
    .flatten()
}

/// The operation with its tags, as utoipa's `#[openapi(paths(…))]` would add it.
pub fn operation<P>() -> Operation
where
    P: utoipa::Path + for<'t> utoipa::__dev::Tags<'t>,
{
    let mut operation = P::operation();
    operation
        .tags
        .get_or_insert_with(Vec::new)
        .extend(P::tags().into_iter().map(str::to_owned));
    operation
}

impl Endpoint {
    /// The actix pattern this endpoint is served at.
    pub fn pattern(&self) -> String {
        self.pattern.map_or_else(self.path, str::to_owned)
    }
}

/// Serves every endpoint: one resource per path holding a route per method, so a known path
/// asked with another method is a 405 that lists the allowed ones. Literal segments sort
/// before `{parameters}`, so `/comments/moderate` is matched before `/comments/{id}`.
pub fn register(cfg: &mut web::ServiceConfig) {
    let mut resources: BTreeMap<String, actix_web::Resource> = BTreeMap::new();
    for endpoint in all() {
        let pattern = endpoint.pattern();
        let mut resource = resources
            .remove(&pattern)
            .unwrap_or_else(|| web::resource(pattern.as_str()));
        for method in (endpoint.methods)() {
            resource = resource.route((endpoint.route)().method(actix_method(&method)));
        }
        resources.insert(pattern, resource);
    }
    for resource in resources.into_values() {
        cfg.service(resource);
    }
}

/// Adds every endpoint's operation, and the schemas they refer to, to `doc`.
pub fn document(doc: &mut OpenApi) {
    let mut schemas = Vec::new();
    for endpoint in all() {
        doc.paths
            .add_path_operation((endpoint.path)(), (endpoint.methods)(), (endpoint.operation)());
        (endpoint.schemas)(&mut schemas);
    }
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
}

fn actix_method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Post => Method::POST,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// The application state as handlers take it.
pub type State = web::Data<AppState>;

/// A handler's answer of one resource in the `data` envelope.
pub type One<T> = Result<web::Json<Data<T>>, ApiError>;

/// The usual answers of a handler whose work is one database call: handlers extract, call the
/// service through one of these and are done.
impl AppState {
    /// 200 with the result in the `data` envelope.
    pub async fn data<T, F>(&self, f: F) -> One<T>
    where
        F: FnOnce(&mut Db) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        Ok(web::Json(Data::new(self.db.run(f).await?)))
    }

    /// 200 with the result as it is (a list envelope).
    pub async fn json<T, F>(&self, f: F) -> Result<web::Json<T>, ApiError>
    where
        F: FnOnce(&mut Db) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        Ok(web::Json(self.db.run(f).await?))
    }

    /// 201 with the created resource in the `data` envelope.
    pub async fn created<T, F>(&self, f: F) -> Result<HttpResponse, ApiError>
    where
        F: FnOnce(&mut Db) -> Result<T, ApiError> + Send + 'static,
        T: serde::Serialize + Send + 'static,
    {
        Ok(HttpResponse::Created().json(Data::new(self.db.run(f).await?)))
    }

    /// 204 once the call succeeded.
    pub async fn no_content<F>(&self, f: F) -> Result<HttpResponse, ApiError>
    where
        F: FnOnce(&mut Db) -> Result<(), ApiError> + Send + 'static,
    {
        self.done(StatusCode::NO_CONTENT, f).await
    }

    /// `status` with no body, once the call succeeded (202 for queued work).
    pub async fn done<F>(&self, status: StatusCode, f: F) -> Result<HttpResponse, ApiError>
    where
        F: FnOnce(&mut Db) -> Result<(), ApiError> + Send + 'static,
    {
        self.db.run(f).await?;
        Ok(HttpResponse::build(status).finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pattern may only add a regular expression to a documented parameter.
    #[test]
    fn patterns_match_their_documented_paths() {
        for endpoint in all() {
            let Some(pattern) = endpoint.pattern else { continue };
            let mut unconstrained = String::new();
            let mut depth = 0;
            let mut skipping = false;
            for c in pattern.chars() {
                match c {
                    '{' if depth == 0 => {
                        depth = 1;
                        unconstrained.push(c);
                    }
                    '{' => depth += 1,
                    '}' if depth == 1 => {
                        depth = 0;
                        skipping = false;
                        unconstrained.push(c);
                    }
                    '}' => depth -= 1,
                    ':' if depth == 1 => skipping = true,
                    _ if skipping => {}
                    _ => unconstrained.push(c),
                }
            }
            assert_eq!(unconstrained, (endpoint.path)(), "pattern {pattern}");
        }
    }

    #[test]
    fn no_two_endpoints_share_a_method_and_path() {
        let mut seen = std::collections::HashSet::new();
        for endpoint in all() {
            for method in (endpoint.methods)() {
                let key = (actix_method(&method), (endpoint.path)());
                assert!(seen.insert(key.clone()), "{key:?} is declared twice");
            }
        }
    }
}
