//! `AuthUser`: the signed-in account behind a request's bearer token.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use diesel::dsl::exists;
use diesel::prelude::*;

use super::Role;
use crate::app::AppState;
use crate::db::schema::{authors, refresh_tokens};
use crate::error::ApiError;
use crate::i18n::Code;

/// A request made with a valid access token of an active account.
///
/// The token proves who is calling; the account's current role and `active` flag, and whether
/// the token's session still stands, are read from the database on every request (one query
/// over two indexes), so signing out, a replayed refresh token, a password change or reset, a
/// deactivation or a role change takes effect at once rather than when the token expires.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub role: Role,
    /// The sign-in session (refresh-token family) of the token.
    pub session: String,
}

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized(Code::AuthTokenMissing))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized(Code::AuthHeaderUnreadable))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized(Code::AuthBearerRequired))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(Code::AuthBearerRequired));
    }
    Ok(token.trim().to_owned())
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let claims = state.jwt.verify(&token)?;
            let id: i64 = claims
                .sub
                .parse()
                .map_err(|_| ApiError::unauthorized(Code::AuthTokenInvalid))?;
            let sid = claims.sid;
            let family = sid.clone();
            let row: Option<(String, bool, bool, bool)> = state
                .db
                .run(move |conn| {
                    // One query for the account and its session. A session is alive while
                    // the account holds tokens of its family and none of them is revoked:
                    // every way of ending a session revokes the whole family, and checking
                    // "none revoked" rather than "one unrevoked" keeps a token rotated in a
                    // race with the revocation from reviving it.
                    let of_family = || {
                        refresh_tokens::table
                            .filter(refresh_tokens::family.eq(family.clone()))
                            .filter(refresh_tokens::author_id.eq(id))
                    };
                    Ok(authors::table
                        .find(id)
                        .select((
                            authors::role,
                            authors::active,
                            exists(of_family()),
                            exists(of_family().filter(refresh_tokens::revoked_at.is_not_null())),
                        ))
                        .first(conn)
                        .optional()?)
                })
                .await?;
            match row {
                Some((role, true, true, false)) => Ok(AuthUser {
                    id,
                    role: Role::parse(&role)
                        .ok_or_else(|| ApiError::internal(format!("unknown role {role}")))?,
                    session: sid,
                }),
                Some((_, true, _, _)) => Err(ApiError::unauthorized(Code::AuthSessionEnded)),
                _ => Err(ApiError::unauthorized(Code::AuthAccountInactive)),
            }
        })
    }
}
