//! Public `/api/v1/captcha` and `/api/v1/articles/{slug}/comments`, and the moderation desk
//! under `/api/v1/admin`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;

use super::captcha;
use super::dto::*;
use super::model::CommentStatus;
use super::service::{self, DeskFilter};
use crate::auth::AuthUser;
use crate::envelope::{Data, PageQuery};
use crate::error::ApiError;
use crate::error::responses::*;
use crate::http::{Json, Query};
use crate::openapi::OriginNotAllowed;
use crate::openapi::bodies::{
    DataAccepted, DataCaptchaChallenge, DataCommentDetail, DataVecBulkOutcome, ListCommentDetail,
    ListPublicComment,
};
use crate::routing::{Endpoint, State, endpoints};
use actix_web::web::Path;

/// The handlers of this module, served and documented from this one list.
pub const ENDPOINTS: &[Endpoint] = endpoints![
    get_captcha,
    list_comments,
    submit_comment,
    list_desk,
    get_comment,
    moderate_comment,
    moderate_many,
    delete_comment,
    staff_reply,
];

fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

/// A fresh captcha code for the comment form; every call draws a new one ("get a new code").
/// The code is 5 characters without look-alikes, checked without case, valid 10 minutes, and
/// a token verifies once.
#[utoipa::path(
    get, path = "/api/v1/captcha", tag = "comments", operation_id = "get_captcha", security(),
    responses(
        (status = 200, description = "A new code.", body = DataCaptchaChallenge,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 403, response = OriginNotAllowed),
    )
)]
pub async fn get_captcha(state: State) -> Result<HttpResponse, ApiError> {
    use base64::Engine;
    let key = state.secrets.captcha_key.clone();
    let challenge = web::block(move || captcha::generate(key.as_bytes(), Utc::now()))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    let body = CaptchaChallenge {
        captcha_token: challenge.token,
        image: format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&challenge.png)
        ),
        expires_in: captcha::TTL_SECS,
    };
    Ok(no_store(HttpResponse::Ok().json(Data::new(body))))
}

/// Approved comments of a published article, oldest first and threaded; a page holds
/// `per_page` top-level comments with all their replies. Never phone, email or address.
#[utoipa::path(
    get, path = "/api/v1/articles/{slug}/comments", tag = "comments", operation_id = "list_comments", security(),
    params(("slug" = String, Path, description = "Article slug."), PageQuery),
    responses(
        (status = 200, description = "A page of threads.", body = ListPublicComment,
            headers(("ETag" = String), ("Cache-Control" = String))),
    )
)]
pub async fn list_comments(
    req: HttpRequest,
    state: State,
    slug: Path<String>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner().resolve()?;
    let slug = slug.into_inner();
    let changes = state.cache.changes().clone();
    state
        .cache
        .serve(&req, "application/json", |stamp| {
            state.db.read(move |conn| {
                let (article_id, _) = crate::articles::published::published_article(conn, &slug)?;
                let stamp = changes.with_comments(stamp, article_id);
                let list = service::threads(conn, article_id, page)?;
                Ok((stamp, crate::http::json_bytes(&list)?))
            })
        })
        .await
}

/// The public comment form. Every accepted comment waits for a moderator, so the answer is
/// always `pending`. A wrong answer spends the captcha: show a new code.
///
/// Errors: 404 when no published article has this slug; 409 when its comments are closed or
/// the same text came from this client in the last 10 minutes; 422 for invalid fields, where a
/// wrong, expired or reused captcha names `captcha_answer`; 429 beyond
/// `NEWSDESK_COMMENT_RATE_PER_MIN` comments per client per minute.
#[utoipa::path(
    post, path = "/api/v1/articles/{slug}/comments", tag = "comments", operation_id = "submit_comment", security(),
    params(("slug" = String, Path, description = "Article slug.")),
    request_body = CommentInput,
    responses(
        (status = 202, description = "Received; shown once a moderator approves it.", body = DataAccepted),
        (status = 409, response = Conflict),
        (status = 429, response = TooManyRequests),
    )
)]
pub async fn submit_comment(
    req: HttpRequest,
    state: State,
    slug: Path<String>,
    body: Json<CommentInput>,
) -> Result<HttpResponse, ApiError> {
    // Browsers send ASCII, but nothing stops a client from sending other bytes.
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let id = service::receive(
        &state,
        slug.into_inner(),
        body.into_inner(),
        state.client_hash(&req),
        user_agent.as_deref(),
    )
    .await?;
    Ok(no_store(HttpResponse::Accepted().json(Data::new(Accepted {
        id,
        status: CommentStatus::Pending,
    }))))
}

/// Comments for moderation, newest first, with phone, email, client hash and history.
#[utoipa::path(
    get, path = "/api/v1/admin/comments", tag = "moderation", operation_id = "list_moderation_comments",
    params(PageQuery, DeskFilter),
    responses(
        (status = 200, description = "Comments, newest first.", body = ListCommentDetail),
    )
)]
pub async fn list_desk(
    user: AuthUser,
    state: State,
    page: Query<PageQuery>,
    filter: Query<DeskFilter>,
) -> Result<HttpResponse, ApiError> {
    let (page, filter) = (page.into_inner(), filter.into_inner());
    let list = state
        .db
        .run(move |conn| service::desk(conn, &user, &filter, page))
        .await?;
    Ok(no_store(HttpResponse::Ok().json(list)))
}

/// One comment with everything moderators may see.
#[utoipa::path(
    get, path = "/api/v1/admin/comments/{id}", tag = "moderation", operation_id = "get_moderation_comment",
    params(("id" = i64, Path, description = "Comment id.")),
    responses(
        (status = 200, description = "The comment.", body = DataCommentDetail),
    )
)]
pub async fn get_comment(user: AuthUser, state: State, id: Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let comment = state.db.run(move |conn| service::detail(conn, &user, id)).await?;
    Ok(no_store(HttpResponse::Ok().json(Data::new(comment))))
}

/// Changes a comment's status: pending → approved, rejected or spam; approved → rejected or
/// spam; spam → pending. Any other move is a 409 naming the current status. The change and
/// its note go into the comment's history.
#[utoipa::path(
    patch, path = "/api/v1/admin/comments/{id}", tag = "moderation", operation_id = "moderate_comment",
    params(("id" = i64, Path, description = "Comment id.")),
    request_body = ModerationInput,
    responses(
        (status = 200, description = "The comment after the change.", body = DataCommentDetail),
        (status = 409, response = Conflict),
    )
)]
pub async fn moderate_comment(
    user: AuthUser,
    state: State,
    id: Path<i64>,
    body: Json<ModerationInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, input) = (id.into_inner(), body.into_inner());
    let comment = state
        .db
        .run(move |conn| service::moderate(conn, &user, id, input))
        .await?;
    Ok(no_store(HttpResponse::Ok().json(Data::new(comment))))
}

/// Moves up to 100 comments to one status in one transaction; each comment that cannot make
/// the move is reported (`conflict`, `not_found`) and left as it is.
#[utoipa::path(
    post, path = "/api/v1/admin/comments/moderate", tag = "moderation", operation_id = "moderate_comments", request_body = BulkModerationInput,
    responses(
        (status = 200, description = "One outcome per distinct id, in ascending id order.",
            body = DataVecBulkOutcome),
    )
)]
pub async fn moderate_many(
    user: AuthUser,
    state: State,
    body: Json<BulkModerationInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let outcomes = state
        .db
        .run(move |conn| service::moderate_many(conn, &user, input))
        .await?;
    Ok(no_store(HttpResponse::Ok().json(Data::new(outcomes))))
}

/// Deletes a comment for good, with every reply below it and their history. To take a
/// comment down but keep it, reject it instead.
#[utoipa::path(
    delete, path = "/api/v1/admin/comments/{id}", tag = "moderation", operation_id = "delete_comment",
    params(("id" = i64, Path, description = "Comment id.")),
    responses(
        (status = 204, description = "Deleted."),
    )
)]
pub async fn delete_comment(user: AuthUser, state: State, id: Path<i64>) -> Result<HttpResponse, ApiError> {
    state
        .no_content(move |conn| service::delete(conn, &user, *id))
        .await
}

/// A reply from the newsroom: approved at once, `is_staff: true`, signed with the caller's
/// name. Allowed on articles whose comments are closed.
#[utoipa::path(
    post, path = "/api/v1/admin/articles/{id}/comments", tag = "moderation", operation_id = "create_staff_reply",
    params(("id" = i64, Path, description = "Article id.")),
    request_body = StaffReplyInput,
    responses(
        (status = 201, description = "Published.", body = DataCommentDetail,
            headers(("Location" = String))),
    )
)]
pub async fn staff_reply(
    req: HttpRequest,
    user: AuthUser,
    state: State,
    id: Path<i64>,
    body: Json<StaffReplyInput>,
) -> Result<HttpResponse, ApiError> {
    let article_id = id.into_inner();
    let input = body.into_inner();
    let client = state.client_hash(&req);
    let comment = state
        .db
        .run(move |conn| service::staff_reply(conn, &user, article_id, input, client))
        .await?;
    Ok(no_store(
        HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/admin/comments/{}", comment.id)))
            .json(Data::new(comment)),
    ))
}
