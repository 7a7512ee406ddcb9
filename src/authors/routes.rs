//! Author profiles: public `/api/v1/authors`, and account management under
//! `/api/v1/admin/authors` (admin only).

use actix_web::{HttpRequest, HttpResponse, web};

use super::dto::{Account, CreateAuthor, UpdateAuthor};
use super::service::{self, AccountFilter};
use crate::auth::AuthUser;
use crate::envelope::{Data, List, PageQuery};
use crate::error::ApiError;
use crate::error::responses::*;
use crate::http::cached_json;
use crate::http::{Json, Query};
use crate::openapi::bodies::{DataAccount, DataPublicAuthor, ListAccount, ListPublicAuthor};
use crate::routing::{Endpoint, One, State, endpoints};
use actix_web::web::Path;

/// The handlers of this module, served and documented from this one list.
pub const ENDPOINTS: &[Endpoint] = endpoints![
    list_authors,
    get_author,
    list_accounts,
    create_account,
    get_account,
    update_account,
    deactivate_account,
];

/// Public author profiles, by name.
#[utoipa::path(
    get, path = "/api/v1/authors", tag = "authors", operation_id = "list_authors", security(),
    params(PageQuery),
    responses(
        (status = 200, description = "Author profiles.", body = ListPublicAuthor,
            headers(("ETag" = String), ("Cache-Control" = String))),
    )
)]
pub async fn list_authors(
    req: HttpRequest,
    state: State,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.into_inner().resolve()?;
    let list = state
        .db
        .read(move |conn| service::public_profiles(conn, page))
        .await?;
    cached_json(&req, &list)
}

/// One public author profile.
#[utoipa::path(
    get, path = "/api/v1/authors/{slug}", tag = "authors", operation_id = "get_author", security(),
    params(("slug" = String, Path, description = "The author's slug.")),
    responses(
        (status = 200, description = "The profile.", body = DataPublicAuthor,
            headers(("ETag" = String), ("Cache-Control" = String))),
    )
)]
pub async fn get_author(
    req: HttpRequest,
    state: State,
    slug: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    let profile = state
        .db
        .read(move |conn| service::public_profile(conn, &slug))
        .await?;
    cached_json(&req, &Data::new(profile))
}

/// Every account with its private fields (admin).
#[utoipa::path(
    get, path = "/api/v1/admin/authors", tag = "accounts", operation_id = "list_accounts",
    params(PageQuery, AccountFilter),
    responses(
        (status = 200, description = "Accounts.", body = ListAccount),
    )
)]
pub async fn list_accounts(
    user: AuthUser,
    state: State,
    page: Query<PageQuery>,
    filter: Query<AccountFilter>,
) -> Result<web::Json<List<Account>>, ApiError> {
    let (page, filter) = (page.into_inner(), filter.into_inner());
    state
        .json(move |conn| service::list_accounts(conn, &user, page, &filter))
        .await
}

/// Creates an author profile, with credentials when `email` and `password` are given (admin).
#[utoipa::path(
    post, path = "/api/v1/admin/authors", tag = "accounts", operation_id = "create_account",
    request_body = CreateAuthor,
    responses(
        (status = 201, description = "Created.", body = DataAccount,
            headers(("Location" = String, description = "The new account."))),
        (status = 409, response = Conflict),
    )
)]
pub async fn create_account(
    user: AuthUser,
    state: State,
    body: Json<CreateAuthor>,
) -> Result<HttpResponse, ApiError> {
    let account = service::create_account(&state, &user, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/admin/authors/{}", account.id)))
        .json(Data::new(account)))
}

/// One account with its private fields (admin).
#[utoipa::path(
    get, path = "/api/v1/admin/authors/{id}", tag = "accounts", operation_id = "get_account",
    params(("id" = i64, Path, description = "Account id.")),
    responses(
        (status = 200, description = "The account.", body = DataAccount),
    )
)]
pub async fn get_account(user: AuthUser, state: State, id: Path<i64>) -> One<Account> {
    let id = id.into_inner();
    state
        .data(move |conn| service::get_account(conn, &user, id))
        .await
}

/// Changes an account's profile, credentials, role or active flag (admin). A new role,
/// email or password, or deactivation, signs the account out everywhere.
#[utoipa::path(
    patch, path = "/api/v1/admin/authors/{id}", tag = "accounts", operation_id = "update_account",
    params(("id" = i64, Path, description = "Account id.")),
    request_body = UpdateAuthor,
    responses(
        (status = 200, description = "The changed account.", body = DataAccount),
        (status = 409, response = Conflict),
    )
)]
pub async fn update_account(
    user: AuthUser,
    state: State,
    id: Path<i64>,
    body: Json<UpdateAuthor>,
) -> One<Account> {
    let account = service::update_account(&state, &user, id.into_inner(), body.into_inner()).await?;
    Ok(web::Json(Data::new(account)))
}

/// Deactivates an account: it can no longer sign in and its sessions end; its bylines stay
/// (admin).
#[utoipa::path(
    delete, path = "/api/v1/admin/authors/{id}", tag = "accounts", operation_id = "deactivate_account",
    params(("id" = i64, Path, description = "Account id.")),
    responses(
        (status = 204, description = "Deactivated."),
        (status = 409, response = Conflict),
    )
)]
pub async fn deactivate_account(
    user: AuthUser,
    state: State,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state
        .no_content(move |conn| service::deactivate_account(conn, &user, *id))
        .await
}
