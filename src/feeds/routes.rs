//! `/feed.xml`, `/sitemap.xml` and `/sitemap-{n}.xml`, at the root.

use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::error::responses::*;
use crate::http::Query;
use crate::openapi::OriginNotAllowed;
use crate::routing::{Endpoint, State, endpoints};
use actix_web::web::Path;

/// The handlers of this module, served and documented from this one list.
pub const ENDPOINTS: &[Endpoint] = endpoints![feed, sitemap, sitemap_page];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Only this category (slug) and its sub-categories.
    pub category: Option<String>,
}

/// RSS 2.0: the 50 newest published articles, linked by their `url`.
#[utoipa::path(
    get, path = "/feed.xml", tag = "feeds", operation_id = "get_feed", security(),
    params(FeedQuery),
    responses(
        (status = 200, description = "The feed.", content_type = "application/rss+xml", body = String,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 404, response = NotFound),
    )
)]
pub async fn feed(req: HttpRequest, state: State, query: Query<FeedQuery>) -> Result<HttpResponse, ApiError> {
    let public_url = state.config.public_url.clone();
    let pages = state.config.article_pages.clone();
    let category = query.into_inner().category;
    state
        .cached(&req, "application/rss+xml; charset=utf-8", move |conn, _| {
            Ok(super::rss(conn, &public_url, &pages, category.as_deref())?.into_bytes())
        })
        .await
}

/// Every published article with its last change, for crawlers, except those marked
/// `noindex` and syndicated copies (with a `canonical_url`). Past 50,000 articles this is
/// a sitemap index of `{NEWSDESK_PUBLIC_URL}/sitemap-{n}.xml`: the frontend's host serves the
/// sitemaps (the protocol wants them on the host of the URLs they list) by passing these paths
/// through to this server.
#[utoipa::path(
    get, path = "/sitemap.xml", tag = "feeds", operation_id = "get_sitemap", security(),
    responses(
        (status = 200, description = "A sitemap or a sitemap index.", content_type = "application/xml", body = String,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 403, response = OriginNotAllowed),
    )
)]
pub async fn sitemap(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    let public_url = state.config.public_url.clone();
    let pages = state.config.article_pages.clone();
    state
        .cached(&req, "application/xml; charset=utf-8", move |conn, _| {
            let base = public_url.as_str().trim_end_matches('/').to_owned();
            let xml = super::sitemap(conn, &pages, super::SITEMAP_PAGE, |n| {
                format!("{base}/sitemap-{n}.xml")
            })?;
            Ok(xml.into_bytes())
        })
        .await
}

/// One page of a sitemap index: up to 50,000 published articles, oldest first.
#[utoipa::path(
    get, path = "/sitemap-{page}.xml", tag = "feeds", operation_id = "get_sitemap_page", security(),
    params(("page" = i64, Path, description = "Page number, from 1.")),
    responses(
        (status = 200, description = "One sitemap.", content_type = "application/xml", body = String,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 404, response = NotFound),
    )
)]
pub async fn sitemap_page(
    req: HttpRequest,
    state: State,
    page: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let pages = state.config.article_pages.clone();
    // Read here rather than by a pattern in the route, which the request metrics cannot
    // label (they warned on every request). Anything but a page number is no sitemap.
    let page = page
        .parse::<i64>()
        .ok()
        .filter(|_| page.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| ApiError::not_found(crate::i18n::Code::SitemapNotFound))?;
    state
        .cached(&req, "application/xml; charset=utf-8", move |conn, _| {
            Ok(super::sitemap_page(conn, &pages, super::SITEMAP_PAGE, page)?.into_bytes())
        })
        .await
}
