//! The reference reader (`examples/reader/`): a static page that rebuilds the portal's article
//! page from the public API alone. Built into the binary and served only when enabled
//! (`NEWSDESK_READER=on`, or `serve --demo`), so a production API answers nothing at `/`.
//!
//! `/` and `/articles/{slug}` both get `index.html`; the script reads the path and calls the
//! API for the rest.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::http::{etag_of, respond_tagged};

struct Asset {
    body: &'static str,
    content_type: &'static str,
    etag: LazyLock<String>,
}

const INDEX_HTML: &str = include_str!("../examples/reader/index.html");
const READER_JS: &str = include_str!("../examples/reader/reader.js");
const STYLE_CSS: &str = include_str!("../examples/reader/style.css");

static INDEX: Asset = Asset {
    body: INDEX_HTML,
    content_type: "text/html; charset=utf-8",
    etag: LazyLock::new(|| etag_of(INDEX_HTML.as_bytes())),
};
static SCRIPT: Asset = Asset {
    body: READER_JS,
    content_type: "text/javascript; charset=utf-8",
    etag: LazyLock::new(|| etag_of(READER_JS.as_bytes())),
};
static STYLE: Asset = Asset {
    body: STYLE_CSS,
    content_type: "text/css; charset=utf-8",
    etag: LazyLock::new(|| etag_of(STYLE_CSS.as_bytes())),
};

/// The page loads its script and style from this server only and talks only to this API.
/// Images may be `data:` (the captcha) or come from anywhere over HTTPS (pictures in article
/// bodies, which the server has sanitised).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: https:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The page and its files change together with the binary and are unversioned in their URLs,
/// so browsers revalidate every time (a cheap 304 by ETag) rather than mix old and new files.
const CACHE_CONTROL: &str = "no-cache";

pub fn routes(cfg: &mut web::ServiceConfig) {
    for path in ["/", "/articles/{slug}"] {
        cfg.service(
            web::resource(path)
                .route(web::get().to(index))
                .route(web::head().to(index)),
        );
    }
    cfg.service(
        web::resource("/reader/reader.js")
            .route(web::get().to(script))
            .route(web::head().to(script)),
    )
    .service(
        web::resource("/reader/style.css")
            .route(web::get().to(style))
            .route(web::head().to(style)),
    );
}

async fn index(req: HttpRequest) -> HttpResponse {
    let mut res = serve(&req, &INDEX);
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    res
}

async fn script(req: HttpRequest) -> HttpResponse {
    serve(&req, &SCRIPT)
}

async fn style(req: HttpRequest) -> HttpResponse {
    serve(&req, &STYLE)
}

fn serve(req: &HttpRequest, asset: &'static Asset) -> HttpResponse {
    let mut res = respond_tagged(
        req,
        asset.content_type,
        &asset.etag,
        web::Bytes::from_static(asset.body.as_bytes()),
    );
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}
