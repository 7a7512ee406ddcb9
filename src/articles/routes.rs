//! Public `/api/v1/articles` and editorial `/api/v1/admin/articles`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::bulk::{self, BulkArticleInput};
use super::dto::{ArticleInput, ArticlePatch, EditorialArticle, PublishInput, Revision, RevisionSummary};
use super::editorial_list::{self, EditorialFilter};
use super::public::{self, ArticleQuery};
use super::published;
use super::{editorial, revisions, service, slug, workflow};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::Db;
use crate::envelope::{Data, List, PageQuery};
use crate::error::ApiError;
use crate::error::responses::*;
use crate::http::json_bytes;
use crate::http::{Json, Query};
use crate::i18n::{Code, FieldCode};
use crate::media::links::Links;
use crate::openapi::bodies::{
    DataArticleDetail, DataEditorialArticle, DataRevision, DataVecBulkArticleOutcome, DataVecRevisionSummary,
    ListArticleSummary, ListEditorialArticle,
};
use crate::routing::{Endpoint, One, State, endpoints};
use actix_web::web::Path;

/// The handlers of this module, served and documented from this one list.
pub const ENDPOINTS: &[Endpoint] = endpoints![
    list_articles,
    get_article,
    count_view,
    list_editorial,
    create_article,
    get_editorial,
    update_article,
    archive_article,
    submit_article,
    publish_article,
    unpublish_article,
    unarchive_article,
    bulk_articles,
    list_revisions,
    get_revision,
    restore_revision,
];

/// Published articles, newest first, as summaries (no body). A `category`, `tag` or `author`
/// slug that names nothing is a 404 (`category.not_found`, `tag.not_found`,
/// `author.not_found`); one that names something without published articles is an empty page.
#[utoipa::path(
    get, path = "/api/v1/articles", tag = "articles", operation_id = "list_articles", security(),
    params(ArticleQuery),
    responses(
        (status = 200, description = "A page of summaries.", body = ListArticleSummary,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 404, response = NotFound),
    )
)]
pub async fn list_articles(
    req: HttpRequest,
    state: State,
    query: Query<ArticleQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let totals = state.list_totals.clone();
    let count_limit = state.config.search_count_limit;
    let links = state.media.links.clone();
    let names = state.names.clone();
    // A search, or a page far down by number (its offset walks every row before it), can
    // take SQLite milliseconds; the rest run in place (see `Database::read_quick`), and
    // `public::list` hands the longer of those over itself.
    let quick = query.q.is_none() && query.page.is_none_or(|page| page <= QUICK_PAGES);
    state
        .cached_quick(&req, "application/json", quick, move |conn, stamp| {
            json_bytes(&public::list(
                conn,
                &links,
                &names,
                &totals,
                count_limit,
                stamp,
                query,
            )?)
        })
        .await
}

/// Pages of a list by number read in place at most (see `list_articles`).
const QUICK_PAGES: i64 = 10;

/// One published article with its body and its newer and older neighbours.
///
/// A slug the article had while public, before an editor changed it, redirects to the
/// current one.
#[utoipa::path(
    get, path = "/api/v1/articles/{slug}", tag = "articles", operation_id = "get_article", security(),
    params(("slug" = String, Path, description = "Article slug.")),
    responses(
        (status = 200, description = "The article.", body = DataArticleDetail,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 308, description = "A former slug of a published article: it is at `Location`.",
            headers(("Location" = String, description = "`/api/v1/articles/{current slug}`."),
                ("Cache-Control" = String))),
    )
)]
pub async fn get_article(
    req: HttpRequest,
    state: State,
    slug: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    let links = state.media.links.clone();
    let pools = state.tag_pools.clone();
    let names = state.names.clone();
    let wanted = slug.clone();
    let found = state
        .cached_quick(&req, "application/json", true, move |conn, stamp| {
            json_bytes(&Data::new(public::detail(
                conn,
                &links,
                (&pools, &names, stamp),
                &wanted,
            )?))
        })
        .await;
    // Only a miss looks for a former slug: cached pages are served without it, and misses
    // are not cached, so a rename or an unpublish is seen at once.
    match found {
        Err(e) if e.code() == Code::ArticleNotFound => {
            match state.db.read(move |conn| slug::moved_to(conn, &slug)).await? {
                Some(current) => Ok(HttpResponse::PermanentRedirect()
                    .insert_header((header::LOCATION, format!("/api/v1/articles/{current}")))
                    .insert_header((header::CACHE_CONTROL, crate::http::PUBLIC_CACHE_CONTROL))
                    .finish()),
                None => Err(e),
            }
        }
        other => other,
    }
}

/// Counts one view of a published article. Counts are written in batches every few seconds.
#[utoipa::path(
    post, path = "/api/v1/articles/{slug}/views", tag = "articles", operation_id = "count_view", security(),
    params(("slug" = String, Path, description = "Article slug.")),
    responses(
        (status = 204, description = "Counted."),
    )
)]
pub async fn count_view(state: State, slug: Path<String>) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    let (id, _) = state
        .db
        .run(move |conn| published::published_article(conn, &slug))
        .await?;
    state.views.add(id);
    Ok(HttpResponse::NoContent().finish())
}

/// Articles in every state that the caller may see: all for editors and admins, their own for
/// authors and contributors. An `author`, `category` or `tag` that names nothing is a 404.
#[utoipa::path(
    get, path = "/api/v1/admin/articles", tag = "editorial", operation_id = "list_editorial_articles",
    params(PageQuery, EditorialFilter),
    responses(
        (status = 200, description = "Articles, most recently changed first unless `sort` says otherwise.", body = ListEditorialArticle),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub async fn list_editorial(
    user: AuthUser,
    state: State,
    page: Query<PageQuery>,
    filter: Query<EditorialFilter>,
) -> Result<web::Json<List<EditorialArticle>>, ApiError> {
    let page = page.into_inner().resolve()?;
    let filter = filter.into_inner();
    let links = state.media.links.clone();
    let (items, total) = state
        .db
        .run(move |conn| editorial_list::list(conn, &user, &links, page, &filter))
        .await?;
    Ok(web::Json(page.list(items, total)))
}

/// Creates a draft. The slug comes from the title unless given; the byline defaults to the
/// caller.
#[utoipa::path(
    post, path = "/api/v1/admin/articles", tag = "editorial", operation_id = "create_article",
    request_body = ArticleInput,
    responses(
        (status = 201, description = "Created as a draft.", body = DataEditorialArticle,
            headers(("Location" = String), ("ETag" = String, description = "The version, for `If-Match`."))),
        (status = 403, response = Forbidden), (status = 409, response = Conflict),
    )
)]
pub async fn create_article(
    user: AuthUser,
    state: State,
    body: Json<ArticleInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let links = state.media.links.clone();
    let article = state
        .db
        .run(move |conn| service::create(conn, &user, &links, input))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/admin/articles/{}", article.id)))
        .insert_header((header::ETAG, format!("\"{}\"", article.version)))
        .json(Data::new(article)))
}

/// Makes a workflow move that needs nothing but the article, and answers with the article as
/// the move left it.
async fn moved(
    state: &AppState,
    user: AuthUser,
    id: i64,
    step: fn(&mut Db, &AuthUser, &Links, i64) -> Result<EditorialArticle, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let links = state.media.links.clone();
    let article = state.db.run(move |conn| step(conn, &user, &links, id)).await?;
    Ok(editorial_response(article))
}

fn editorial_response(article: EditorialArticle) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", article.version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Data::new(article))
}

/// One article in any state, with its body source and version.
#[utoipa::path(
    get, path = "/api/v1/admin/articles/{id}", tag = "editorial", operation_id = "get_editorial_article",
    params(("id" = i64, Path, description = "Article id.")),
    responses(
        (status = 200, description = "The article; `ETag` is its version.", body = DataEditorialArticle,
            headers(("ETag" = String))),
    )
)]
pub async fn get_editorial(user: AuthUser, state: State, id: Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let links = state.media.links.clone();
    let article = state
        .db
        .run(move |conn| editorial::get(conn, &user, &links, id))
        .await?;
    Ok(editorial_response(article))
}

/// The version an edit is based on: `If-Match: "<version>"` or the body's `version`.
fn expected_version(req: &HttpRequest, body: &ArticlePatch) -> Result<i64, ApiError> {
    let header = match req.headers().get(header::IF_MATCH) {
        Some(value) => {
            let raw = value.to_str().unwrap_or_default().trim();
            let raw = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
            Some(
                raw.parse::<i64>()
                    .map_err(|_| ApiError::bad_request(Code::IfMatchInvalid))?,
            )
        }
        None => None,
    };
    match (header, body.version) {
        (Some(h), Some(b)) if h != b => Err(ApiError::bad_request(Code::IfMatchDisagrees)),
        (Some(v), _) | (None, Some(v)) => Ok(v),
        (None, None) => Err(ApiError::validation("version", FieldCode::VersionRequired)),
    }
}

/// Saves an edit. A stale `version` is a 409 and nothing is overwritten.
#[utoipa::path(
    patch, path = "/api/v1/admin/articles/{id}", tag = "editorial", operation_id = "update_article",
    params(("id" = i64, Path, description = "Article id."),
        ("If-Match" = Option<String>, Header, description = "The version read, as `\"<version>\"`; or send `version` in the body.")),
    request_body = ArticlePatch,
    responses(
        (status = 200, description = "Saved as a new version.", body = DataEditorialArticle, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    )
)]
pub async fn update_article(
    req: HttpRequest,
    user: AuthUser,
    state: State,
    id: Path<i64>,
    body: Json<ArticlePatch>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let patch = body.into_inner();
    let expected = expected_version(&req, &patch)?;
    let links = state.media.links.clone();
    let article = state
        .db
        .run(move |conn| service::update(conn, &user, &links, id, expected, patch))
        .await?;
    Ok(editorial_response(article))
}

/// Archives the article (the contract's delete): it leaves every public list.
#[utoipa::path(
    delete, path = "/api/v1/admin/articles/{id}", tag = "editorial", operation_id = "archive_article",
    params(("id" = i64, Path, description = "Article id.")),
    responses(
        (status = 204, description = "Archived."),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    )
)]
pub async fn archive_article(user: AuthUser, state: State, id: Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state
        .no_content(move |conn| workflow::archive(conn, &user, id))
        .await
}

/// Submits a draft for review.
#[utoipa::path(
    post, path = "/api/v1/admin/articles/{id}/submit", tag = "editorial", operation_id = "submit_article",
    params(("id" = i64, Path, description = "Article id.")),
    responses(
        (status = 200, description = "In review.", body = DataEditorialArticle),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    )
)]
pub async fn submit_article(user: AuthUser, state: State, id: Path<i64>) -> Result<HttpResponse, ApiError> {
    moved(&state, user, id.into_inner(), workflow::submit).await
}

/// Publishes now, backdated to a past `publish_at`, or scheduled for a future one; with
/// `unpublish_at`, the scheduler takes it back to draft then.
#[utoipa::path(
    post, path = "/api/v1/admin/articles/{id}/publish", tag = "editorial", operation_id = "publish_article",
    params(("id" = i64, Path, description = "Article id.")),
    request_body(content = Option<PublishInput>, description = "Optional; no body publishes now."),
    responses(
        (status = 200, description = "Published or scheduled.", body = DataEditorialArticle),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict), (status = 422, response = ValidationFailed),
    )
)]
pub async fn publish_article(
    user: AuthUser,
    state: State,
    id: Path<i64>,
    body: crate::http::OptionalJson<PublishInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let input = body.0.unwrap_or_default();
    let links = state.media.links.clone();
    let article = state
        .db
        .run(move |conn| workflow::publish(conn, &user, &links, id, input))
        .await?;
    Ok(editorial_response(article))
}

/// Takes a published or scheduled article back to draft.
#[utoipa::path(
    post, path = "/api/v1/admin/articles/{id}/unpublish", tag = "editorial", operation_id = "unpublish_article",
    params(("id" = i64, Path, description = "Article id.")),
    responses(
        (status = 200, description = "A draft again.", body = DataEditorialArticle),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    )
)]
pub async fn unpublish_article(
    user: AuthUser,
    state: State,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    moved(&state, user, id.into_inner(), workflow::unpublish).await
}

/// Brings an archived article back as a draft (editors and administrators).
#[utoipa::path(
    post, path = "/api/v1/admin/articles/{id}/unarchive", tag = "editorial", operation_id = "unarchive_article",
    params(("id" = i64, Path, description = "Article id.")),
    responses(
        (status = 200, description = "A draft again.", body = DataEditorialArticle),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    )
)]
pub async fn unarchive_article(
    user: AuthUser,
    state: State,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    moved(&state, user, id.into_inner(), workflow::unarchive).await
}

/// Makes one workflow move on up to 100 articles, each checked against the caller's
/// permissions and its state as if made alone; an article that cannot make it is reported
/// (`conflict`, `forbidden`, `invalid`, `not_found`) and left as it is.
#[utoipa::path(
    post, path = "/api/v1/admin/articles/bulk", tag = "editorial", operation_id = "bulk_articles",
    request_body = BulkArticleInput,
    responses(
        (status = 200, description = "One outcome per distinct id, in the order sent.",
            body = DataVecBulkArticleOutcome),
        (status = 403, response = Forbidden),
    )
)]
pub async fn bulk_articles(
    user: AuthUser,
    state: State,
    body: Json<BulkArticleInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let links = state.media.links.clone();
    let outcomes = state
        .db
        .run(move |conn| bulk::bulk(conn, &user, &links, input))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Data::new(outcomes)))
}

/// Every saved version, newest first.
#[utoipa::path(
    get, path = "/api/v1/admin/articles/{id}/revisions", tag = "editorial", operation_id = "list_revisions",
    params(("id" = i64, Path, description = "Article id.")),
    responses(
        (status = 200, description = "Versions.", body = DataVecRevisionSummary),
    )
)]
pub async fn list_revisions(
    user: AuthUser,
    state: State,
    id: Path<i64>,
) -> Result<web::Json<Data<Vec<RevisionSummary>>>, ApiError> {
    let id = id.into_inner();
    state
        .data(move |conn| revisions::revisions(conn, &user, id))
        .await
}

/// One saved version with its content.
#[utoipa::path(
    get, path = "/api/v1/admin/articles/{id}/revisions/{version}", tag = "editorial", operation_id = "get_revision",
    params(("id" = i64, Path, description = "Article id."), ("version" = i64, Path, description = "Version.")),
    responses(
        (status = 200, description = "The version.", body = DataRevision),
    )
)]
pub async fn get_revision(user: AuthUser, state: State, path: Path<(i64, i64)>) -> One<Revision> {
    let (id, version) = path.into_inner();
    state
        .data(move |conn| revisions::revision(conn, &user, id, version))
        .await
}

/// Saves an earlier version's content as the newest version.
#[utoipa::path(
    post, path = "/api/v1/admin/articles/{id}/revisions/{version}/restore", tag = "editorial", operation_id = "restore_revision",
    params(("id" = i64, Path, description = "Article id."), ("version" = i64, Path, description = "Version to bring back.")),
    responses(
        (status = 200, description = "Restored as a new version.", body = DataEditorialArticle),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict), (status = 422, response = ValidationFailed),
    )
)]
pub async fn restore_revision(
    user: AuthUser,
    state: State,
    path: Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let links = state.media.links.clone();
    let article = state
        .db
        .run(move |conn| revisions::restore(conn, &user, &links, id, version))
        .await?;
    Ok(editorial_response(article))
}
