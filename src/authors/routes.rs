//! Author profiles: public `/api/v1/authors`, and account management under
//! `/api/v1/admin/authors` (admin only).

use actix_web::{HttpRequest, HttpResponse, web};

use super::dto::{Account, CreateAuthor, PublicAuthor, UpdateAuthor};
use super::service::{self, AccountFilter};
use crate::app::AppState;
use crate::auth::policy::{self, Action};
use crate::auth::{AuthUser, password};
use crate::envelope::{Data, List, PageQuery};
use crate::error::ApiError;
use crate::error::responses::*;
use crate::http::cached_json;
use crate::i18n::Code;
use crate::openapi::bodies::{DataAccount, DataPublicAuthor, ListAccount, ListPublicAuthor};

pub fn public_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/authors").route(web::get().to(list_authors)))
        .service(web::resource("/authors/{slug}").route(web::get().to(get_author)));
}

pub fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/authors")
            .route(web::get().to(list_accounts))
            .route(web::post().to(create_account)),
    )
    .service(
        web::resource("/authors/{id}")
            .route(web::get().to(get_account))
            .route(web::patch().to(update_account))
            .route(web::delete().to(deactivate_account)),
    );
}

/// Public author profiles, by name.
#[utoipa::path(
    get, path = "/api/v1/authors", tag = "authors", operation_id = "list_authors", security(),
    params(PageQuery),
    responses(
        (status = 200, description = "Author profiles.", body = ListPublicAuthor,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 400, response = BadRequest),
    )
)]
pub async fn list_authors(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: crate::http::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.into_inner().resolve()?;
    let (rows, total, counts) = state
        .db
        .run(move |conn| {
            let (rows, total) = service::list(conn, page, &AccountFilter::default())?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let counts = service::published_counts(conn, &ids)?;
            Ok((rows, total, counts))
        })
        .await?;
    let items = rows
        .into_iter()
        .map(|row| {
            let count = counts.get(&row.id).copied().unwrap_or(0);
            PublicAuthor::from_row(row, count)
        })
        .collect();
    cached_json(&req, &page.list(items, total))
}

/// One public author profile.
#[utoipa::path(
    get, path = "/api/v1/authors/{slug}", tag = "authors", operation_id = "get_author", security(),
    params(("slug" = String, Path, description = "The author's slug.")),
    responses(
        (status = 200, description = "The profile.", body = DataPublicAuthor,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 404, response = NotFound),
    )
)]
pub async fn get_author(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    let (row, counts) = state
        .db
        .run(move |conn| {
            let row = service::find_by_slug(conn, &slug)?;
            let counts = service::published_counts(conn, &[row.id])?;
            Ok((row, counts))
        })
        .await?;
    let count = counts.get(&row.id).copied().unwrap_or(0);
    cached_json(&req, &Data::new(PublicAuthor::from_row(row, count)))
}

/// Every account with its private fields (admin).
#[utoipa::path(
    get, path = "/api/v1/admin/authors", tag = "accounts", operation_id = "list_accounts",
    params(PageQuery, AccountFilter),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Accounts.", body = ListAccount),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
pub async fn list_accounts(
    user: AuthUser,
    state: web::Data<AppState>,
    page: crate::http::Query<PageQuery>,
    filter: crate::http::Query<AccountFilter>,
) -> Result<web::Json<List<Account>>, ApiError> {
    policy::require(&user, Action::ManageAccounts)?;
    let page = page.into_inner().resolve()?;
    let filter = filter.into_inner();
    let (rows, total) = state
        .db
        .run(move |conn| service::list(conn, page, &filter))
        .await?;
    Ok(web::Json(
        page.list(rows.into_iter().map(Account::from).collect(), total),
    ))
}

/// Creates an author profile, with credentials when `email` and `password` are given (admin).
#[utoipa::path(
    post, path = "/api/v1/admin/authors", tag = "accounts", operation_id = "create_account",
    request_body = CreateAuthor,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created.", body = DataAccount,
            headers(("Location" = String, description = "The new account."))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
    )
)]
pub async fn create_account(
    user: AuthUser,
    state: web::Data<AppState>,
    body: crate::http::Json<CreateAuthor>,
) -> Result<HttpResponse, ApiError> {
    policy::require(&user, Action::ManageAccounts)?;
    let mut input = service::validate_new(body.into_inner())?;
    let hash = match input.password.take() {
        Some(pw) => Some(password::hash_off_thread(pw).await?),
        None => None,
    };
    let row = state
        .db
        .run(move |conn| service::create(conn, Some(user.id), input, hash))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/admin/authors/{}", row.id)))
        .json(Data::new(Account::from(row))))
}

/// One account with its private fields (admin).
#[utoipa::path(
    get, path = "/api/v1/admin/authors/{id}", tag = "accounts", operation_id = "get_account",
    params(("id" = i64, Path, description = "Account id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account.", body = DataAccount),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub async fn get_account(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<web::Json<Data<Account>>, ApiError> {
    policy::require(&user, Action::ManageAccounts)?;
    let id = id.into_inner();
    let row = state.db.run(move |conn| service::find(conn, id)).await?;
    Ok(web::Json(Data::new(Account::from(row))))
}

/// Changes an account's profile, credentials, role or active flag (admin). A new role,
/// email or password, or deactivation, signs the account out everywhere.
#[utoipa::path(
    patch, path = "/api/v1/admin/authors/{id}", tag = "accounts", operation_id = "update_account",
    params(("id" = i64, Path, description = "Account id.")),
    request_body = UpdateAuthor,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed account.", body = DataAccount),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
    )
)]
pub async fn update_account(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: crate::http::Json<UpdateAuthor>,
) -> Result<web::Json<Data<Account>>, ApiError> {
    policy::require(&user, Action::ManageAccounts)?;
    let id = id.into_inner();
    let (mut form, new_password) = service::validate_update(body.into_inner())?;
    if let Some(pw) = new_password {
        form.password_hash = Some(Some(password::hash_off_thread(pw).await?));
    }
    if id == user.id && (form.active == Some(false) || form.role.as_deref().is_some_and(|r| r != "admin")) {
        return Err(ApiError::conflict(Code::AccountSelfDemote));
    }
    let row = state
        .db
        .run(move |conn| service::update(conn, Some(user.id), id, form))
        .await?;
    Ok(web::Json(Data::new(Account::from(row))))
}

/// Deactivates an account: it can no longer sign in and its sessions end; its bylines stay
/// (admin).
#[utoipa::path(
    delete, path = "/api/v1/admin/authors/{id}", tag = "accounts", operation_id = "deactivate_account",
    params(("id" = i64, Path, description = "Account id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deactivated."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
pub async fn deactivate_account(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    policy::require(&user, Action::ManageAccounts)?;
    let id = id.into_inner();
    if id == user.id {
        return Err(ApiError::conflict(Code::AccountSelfDeactivate));
    }
    state
        .db
        .run(move |conn| service::deactivate(conn, Some(user.id), id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
