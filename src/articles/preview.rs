//! Preview links: a signed, expiring token that shows an article's latest saved version to
//! whoever holds it, signed in or not, so an editor can send a draft to someone without an
//! account. Tokens are stateless: the article id and the expiry, with an HMAC-SHA256 under
//! the server's signing secret. Nothing is stored, so a link cannot be revoked one by one;
//! archiving the article stops all of its links.

use actix_web::http::header;
use actix_web::{HttpResponse, web::Path};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use utoipa::ToSchema;

use super::dto::ArticleDetail;
use super::editorial::{find_row, load_for};
use super::model::ArticleState;
use super::public;
use crate::audit::{Entry, Resource};
use crate::auth::AuthUser;
use crate::db::Db;
use crate::envelope::Data;
use crate::error::ApiError;
use crate::error::responses::NotFound;
use crate::i18n::Code;
use crate::media::links::Links;
use crate::openapi::bodies::{DataArticleDetail, DataPreviewLink};
use crate::routing::{Endpoint, State, endpoints};

/// Where the token goes in `NEWSDESK_PREVIEW_URL`.
pub const TOKEN: &str = "{token}";

/// Separates these MACs from anything else the same secret signs.
const PURPOSE: &[u8] = b"newsdesk article preview v1\0";
const PAYLOAD_LEN: usize = 16;
const MAC_LEN: usize = 32;

pub const ENDPOINTS: &[Endpoint] = endpoints![create_preview, get_preview];

/// A preview link of an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewLink {
    /// The token, for `GET /api/v1/preview/{token}`.
    pub token: String,
    /// The frontend's preview page for it (`NEWSDESK_PREVIEW_URL`).
    pub url: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// `NEWSDESK_PREVIEW_TTL`: from a minute to 30 days.
pub fn ttl(seconds: u64) -> Result<std::time::Duration, &'static str> {
    if !(60..=2_592_000).contains(&seconds) {
        return Err("must be between 60 and 2592000 seconds (30 days)");
    }
    Ok(std::time::Duration::from_secs(seconds))
}

/// `NEWSDESK_PREVIEW_URL` as set, or the default under the public URL: an http(s) URL with a
/// host and [`TOKEN`] in it.
pub fn url_template(public_url: &url::Url, set: Option<&str>) -> Result<String, &'static str> {
    let template = match set.map(str::trim) {
        None | Some("") => format!("{}/preview/{TOKEN}", public_url.as_str().trim_end_matches('/')),
        Some(template) => template.to_owned(),
    };
    // Checked with a token in place: the braces themselves are not what makes it a URL.
    let sample = url::Url::parse(&template.replace(TOKEN, "token"));
    if !template.contains(TOKEN)
        || !sample.is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
    {
        return Err(
            "must be an http:// or https:// URL with a host and `{token}` in it, such as \
             https://portal.example/preview/{token}",
        );
    }
    Ok(template)
}

fn mac(key: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(PURPOSE);
    mac.update(payload);
    mac
}

/// The token of `article_id` until `expires_at` (whole seconds), signed with `key`. Public so
/// the tests can make tokens the server would have made at another time.
pub fn sign(key: &[u8], article_id: i64, expires_at: DateTime<Utc>) -> String {
    let mut bytes = Vec::with_capacity(PAYLOAD_LEN + MAC_LEN);
    bytes.extend_from_slice(&article_id.to_be_bytes());
    bytes.extend_from_slice(&expires_at.timestamp().to_be_bytes());
    let tag = mac(key, &bytes).finalize().into_bytes();
    bytes.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The article a token names, if `key` signed it and it has not expired at `now`.
pub fn verify(key: &[u8], token: &str, now: DateTime<Utc>) -> Option<i64> {
    // A token of the right length is 64 characters; anything far off is not worth decoding.
    if token.len() > 128 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    if bytes.len() != PAYLOAD_LEN + MAC_LEN {
        return None;
    }
    let (payload, tag) = bytes.split_at(PAYLOAD_LEN);
    mac(key, payload).verify_slice(tag).ok()?;
    let (id, expires) = payload.split_at(8);
    let id = i64::from_be_bytes(id.try_into().ok()?);
    let expires = i64::from_be_bytes(expires.try_into().ok()?);
    (now.timestamp() < expires).then_some(id)
}

/// Makes a link for an article the caller may see, and logs that it was made. An archived
/// article gets one too, which shows nothing until the article is restored to the workflow.
pub fn create(
    conn: &mut Db,
    user: &AuthUser,
    key: &[u8],
    ttl: std::time::Duration,
    url_template: &str,
    id: i64,
) -> Result<PreviewLink, ApiError> {
    load_for(conn, user, id)?;
    let ttl = TimeDelta::from_std(ttl).map_err(|e| ApiError::internal(e.to_string()))?;
    let now = Utc::now();
    let expires_at = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now) + ttl;
    let token = sign(key, id, expires_at);
    Entry::new(Some(user.id), "article.preview", Resource::Article, Some(id))
        .detail(serde_json::json!({ "expires_at": crate::time::format(&expires_at) }))
        .record(conn)?;
    Ok(PreviewLink {
        url: url_template.replace(TOKEN, &token),
        token,
        expires_at,
    })
}

/// The article a valid token names, as readers would see it once published.
pub fn show(conn: &mut Db, links: &Links, key: &[u8], token: &str) -> Result<ArticleDetail, ApiError> {
    let gone = || ApiError::not_found(Code::PreviewNotFound);
    let id = verify(key, token, Utc::now()).ok_or_else(gone)?;
    let row = match find_row(conn, id) {
        Ok(row) => row,
        Err(ApiError::NotFound(_)) => return Err(gone()),
        Err(e) => return Err(e),
    };
    if row.state()? == ArticleState::Archived {
        return Err(gone());
    }
    public::detail_of(conn, links, None, row.into())
}

/// A link that shows the article as last saved, to anyone who has it.
///
/// The link shows the latest saved version whatever the article's state, without signing in,
/// until `expires_at` (`NEWSDESK_PREVIEW_TTL`). Whoever may see the article may make one;
/// an article's links stop working when it is archived.
#[utoipa::path(
    post, path = "/api/v1/admin/articles/{id}/preview", tag = "editorial", operation_id = "create_preview",
    params(("id" = i64, Path, description = "Article id.")),
    responses(
        (status = 201, description = "The link.", body = DataPreviewLink),
    )
)]
pub async fn create_preview(user: AuthUser, state: State, id: Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let key = state.secrets.jwt.clone();
    let ttl = state.config.preview_ttl;
    let template = state.config.preview_url.clone();
    let link = state
        .db
        .run(move |conn| create(conn, &user, key.as_bytes(), ttl, &template, id))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Data::new(link)))
}

/// The article a preview link shows, as last saved.
///
/// The answer has the shape of `GET /api/v1/articles/{slug}`; it is never cached and is kept
/// out of search engines. A wrong or expired token, or one whose article is archived or gone,
/// is a 404 `preview.not_found`.
#[utoipa::path(
    get, path = "/api/v1/preview/{token}", tag = "articles", operation_id = "get_preview", security(),
    params(("token" = String, Path, description = "The preview token.")),
    responses(
        (status = 200, description = "The article as it would be published.", body = DataArticleDetail,
            headers(("Cache-Control" = String, description = "`private, no-store`."),
                ("X-Robots-Tag" = String, description = "`noindex`."))),
        (status = 404, response = NotFound),
    )
)]
pub async fn get_preview(state: State, token: Path<String>) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let key = state.secrets.jwt.clone();
    let links = state.media.links.clone();
    let article = state
        .db
        .run(move |conn| show(conn, &links, key.as_bytes(), &token))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header(("X-Robots-Tag", "noindex"))
        .json(Data::new(article)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_names_its_article_until_it_expires() {
        let now = Utc::now();
        let token = sign(KEY, 42, now + TimeDelta::hours(1));
        assert_eq!(token.len(), 64);
        assert_eq!(verify(KEY, &token, now), Some(42));
        assert_eq!(verify(KEY, &token, now + TimeDelta::hours(2)), None);
        assert_eq!(verify(b"another key of thirty-two bytes!", &token, now), None);
    }

    #[test]
    fn a_changed_byte_spoils_the_token() {
        let now = Utc::now();
        let token = sign(KEY, 42, now + TimeDelta::hours(1));
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            bytes[i] ^= 1;
            assert_eq!(
                verify(KEY, &URL_SAFE_NO_PAD.encode(&bytes), now),
                None,
                "byte {i}"
            );
            bytes[i] ^= 1;
        }
        for bad in [
            "",
            "x",
            "=",
            &token[..63],
            &format!("{token}A"),
            &"A".repeat(4096),
        ] {
            assert_eq!(verify(KEY, bad, now), None, "{bad}");
        }
    }
}
