//! `/api/v1/auth`: sign-in, token refresh, sign-out and one's own account.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AuthUser, sessions};
use crate::app::AppState;
use crate::authors::dto::{Account, UpdateMe};
use crate::authors::service;
use crate::envelope::Data;
use crate::error::ApiError;
use crate::error::responses::*;
use crate::http::Json;
use crate::i18n::Code;
use crate::openapi::bodies::{DataAccount, DataTokenPair};
use crate::routing::{Endpoint, One, State, endpoints};

/// The handlers of this module, served and documented from this one list.
pub const ENDPOINTS: &[Endpoint] = endpoints![login, refresh, logout, me, update_me, change_password,];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "editor@example.vn")]
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    /// At least 10 characters, at most 1,024 bytes, not the email.
    #[schema(min_length = 10, max_length = 1024)]
    pub new_password: String,
}

/// An access token and the refresh token that renews it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// A JWT for `Authorization: Bearer …`.
    pub access_token: String,
    #[schema(schema_with = token_type)]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single use: `POST /auth/refresh` spends it and returns a new pair.
    pub refresh_token: String,
    pub author: Account,
}

fn token_type() -> utoipa::openapi::Object {
    crate::openapi::one_of_strings(
        &["Bearer"],
        "How to send `access_token`: `Authorization: Bearer …`.",
    )
}

fn client(req: &HttpRequest, state: &AppState) -> String {
    state.client_hash(req)
}

fn pair(state: &AppState, account: Account, issued: sessions::Issued) -> Result<TokenPair, ApiError> {
    Ok(TokenPair {
        access_token: state.jwt.issue(account.id, account.role, &issued.family)?,
        token_type: "Bearer".into(),
        expires_in: state.jwt.ttl().as_secs(),
        refresh_token: issued.refresh_token,
        author: account,
    })
}

/// Signs in with email and password. Unknown emails and wrong passwords get the same answer
/// in the same time. Within 15 minutes, 5 failures for an email from one client, or 20 from
/// one client, are refused with 429 for that client; past 100 failures for an email from all
/// clients, every attempt for it waits a short back-off (429 with `Retry-After`).
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth", operation_id = "login", security(),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in.", body = DataTokenPair),
        (status = 401, response = Unauthorized), (status = 429, response = TooManyRequests),
    )
)]
pub async fn login(
    req: HttpRequest,
    state: State,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    let (account, issued) = sessions::login(&state, &email, password, client(&req, &state)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Data::new(pair(&state, account, issued)?)))
}

/// Spends a refresh token for a new pair. A token presented a second time revokes its whole
/// session: whoever holds the newer token must sign in again.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth", operation_id = "refresh_token", security(),
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair.", body = DataTokenPair),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn refresh(
    req: HttpRequest,
    state: State,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    let ttl = state.config.refresh_token_ttl;
    let client = client(&req, &state);
    let (rotation, account) = state
        .db
        .run(move |conn| {
            let rotation = sessions::rotate(conn, &presented, ttl, client)?;
            let account = match &rotation {
                sessions::Rotation::Rotated { author_id, .. } => Some(service::find(conn, *author_id)?),
                _ => None,
            };
            Ok((rotation, account))
        })
        .await?;
    match (rotation, account) {
        (sessions::Rotation::Rotated { issued, .. }, Some(account)) => Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(Data::new(pair(&state, Account::try_from(account)?, issued)?))),
        (sessions::Rotation::Replayed, _) => {
            tracing::warn!("a spent refresh token was presented again; its session is revoked");
            Err(ApiError::unauthorized(Code::AuthRefreshReused))
        }
        _ => Err(ApiError::unauthorized(Code::AuthRefreshInvalid)),
    }
}

/// Ends the session the refresh token belongs to. Idempotent.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth", operation_id = "logout", security(),
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out."),
    )
)]
pub async fn logout(
    req: HttpRequest,
    state: State,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    let client = client(&req, &state);
    state
        .no_content(move |conn| sessions::logout(conn, &presented, client))
        .await
}

/// The caller's own account, role included.
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth", operation_id = "get_me",
    responses(
        (status = 200, description = "The caller's account.", body = DataAccount),
    )
)]
pub async fn me(user: AuthUser, state: State) -> Result<HttpResponse, ApiError> {
    let row = state.db.run(move |conn| service::find(conn, user.id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Data::new(Account::try_from(row)?)))
}

/// Changes the caller's own public profile (name, slug, bio, avatar).
#[utoipa::path(
    patch, path = "/api/v1/auth/me", tag = "auth", operation_id = "update_me",
    request_body = UpdateMe,
    responses(
        (status = 200, description = "The changed account.", body = DataAccount),
        (status = 409, response = Conflict),
    )
)]
pub async fn update_me(user: AuthUser, state: State, body: Json<UpdateMe>) -> One<Account> {
    let (form, _) = service::validate_update(body.into_inner().into())?;
    let row = state
        .db
        .run(move |conn| service::update(conn, Some(user.id), user.id, form))
        .await?;
    Ok(web::Json(Data::new(Account::try_from(row)?)))
}

/// Changes the caller's password and ends their other sessions; this one stays signed in.
/// Wrong current passwords count as failed sign-ins and are throttled the same way.
#[utoipa::path(
    post, path = "/api/v1/auth/me/password", tag = "auth", operation_id = "change_password",
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed; other sessions are signed out."),
        (status = 429, response = TooManyRequests),
    )
)]
pub async fn change_password(
    req: HttpRequest,
    user: AuthUser,
    state: State,
    body: Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let ChangePassword {
        current_password,
        new_password,
    } = body.into_inner();
    sessions::change_password(
        &state,
        &user,
        current_password,
        new_password,
        client(&req, &state),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
