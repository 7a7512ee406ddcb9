//! Sign-in sessions: refresh tokens (stored hashed, rotated on every use, whole family revoked
//! when a spent one comes back) and throttling of failed sign-ins. Everything lives in the
//! database so it holds across processes.

use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use diesel::Connection;
use serde_json::json;

use super::{AuthUser, password};
use crate::app::AppState;
use crate::audit::{Entry, Resource};
use crate::authors::dto::Account;
use crate::authors::service as accounts;
use crate::db::schema::{authors, login_failures, refresh_tokens};
use crate::db::{Db, now};
use crate::error::{ApiError, FieldError};
use crate::i18n::{Code, FieldCode};

/// Failed sign-ins are counted over this window.
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;
/// Failures for one email from one client within the window before that client is refused
/// for that email. Counting per email alone would let anyone who knows an address lock its
/// owner out; per pair, a client that has not failed itself can still sign in.
pub const PAIR_LIMIT: i64 = 5;
/// Failures per client address within the window before sign-in is refused.
pub const CLIENT_LIMIT: i64 = 20;
/// Failures per email from all clients within the window past which every attempt for it
/// waits a back-off: guessing spread over many addresses slows to a trickle, while the
/// owner waits seconds, not the window.
pub const EMAIL_CEILING: i64 = 100;
/// The back-off after the failure that reaches [`EMAIL_CEILING`]; it doubles with each
/// further failure, up to [`BACKOFF_MAX_SECS`].
pub const BACKOFF_BASE_SECS: i64 = 2;
pub const BACKOFF_MAX_SECS: i64 = 60;

/// `bytes` random bytes from the OS, base64url without padding.
pub fn random_token(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| ApiError::internal(format!("OS random generator: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// Refresh tokens are stored as SHA-256: a leaked table holds nothing that signs in. A fast
/// hash is right here because the token itself has 256 bits of entropy.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A keyed hash of the client's address: stable enough to count per client, useless for
/// recovering the address from the database.
pub fn client_fingerprint(key: &str, address: Option<std::net::IpAddr>) -> String {
    let Some(address) = address else {
        return "unknown".into();
    };
    match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(address.to_string().as_bytes());
            hex::encode(&mac.finalize().into_bytes()[..16])
        }
        Err(_) => "unknown".into(),
    }
}

/// How a throttling subject is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Refused once this many failures are in the window, until the oldest ages out.
    Window(i64),
    /// Past this many failures in the window, each attempt waits a growing back-off after
    /// the latest failure.
    Backoff(i64),
}

/// The throttling subjects of one sign-in attempt, with their limits. The first is the
/// (email, client) pair, whose failures a success clears.
pub fn login_subjects(email_key: &str, client: &str) -> [(String, Limit); 3] {
    [
        (format!("pair:{client}:{email_key}"), Limit::Window(PAIR_LIMIT)),
        (format!("client:{client}"), Limit::Window(CLIENT_LIMIT)),
        (format!("email:{email_key}"), Limit::Backoff(EMAIL_CEILING)),
    ]
}

/// The wait after the latest failure once `over` failures beyond the ceiling are recorded.
fn backoff(over: i64) -> chrono::Duration {
    let doublings = u32::try_from(over.clamp(0, 16)).unwrap_or(16);
    chrono::Duration::seconds(
        BACKOFF_BASE_SECS
            .saturating_mul(1 << doublings)
            .min(BACKOFF_MAX_SECS),
    )
}

/// When the subject is free again if an attempt at `at` must be refused, given the failures
/// in the window before it (oldest first).
fn refused_until(limit: Limit, before: &[NaiveDateTime], at: NaiveDateTime) -> Option<NaiveDateTime> {
    let count = before.len() as i64;
    match limit {
        Limit::Window(max) if count >= max => {
            Some(before.first().copied().unwrap_or(at) + chrono::Duration::seconds(THROTTLE_WINDOW_SECS))
        }
        Limit::Backoff(ceiling) if count >= ceiling => {
            let free = before.last().copied().unwrap_or(at) + backoff(count - ceiling);
            (at < free).then_some(free)
        }
        _ => None,
    }
}

fn window_start() -> NaiveDateTime {
    now() - chrono::Duration::seconds(THROTTLE_WINDOW_SECS)
}

/// Registers a sign-in attempt before the password is checked, or refuses it with 429 when a
/// subject has used up its attempts; `Retry-After` is when the oldest attempt in the window
/// ages out, or, past the email's ceiling, when its back-off ends. Returns the ids of the rows
/// recorded, for [`attempt_succeeded`].
///
/// Recording first and counting after, in one transaction, is what makes a burst of parallel
/// guesses count: checking first would let every request of the burst through the check
/// before any of them had failed. On PostgreSQL an advisory lock per subject serialises the
/// attempts of one subject; on SQLite the insert takes the write lock.
pub fn begin_attempt(conn: &mut Db, subjects: &[(String, Limit)]) -> Result<Vec<i64>, ApiError> {
    let at = now();
    let since = window_start();
    conn.transaction::<_, ApiError, _>(|conn| {
        for (subject, _) in subjects {
            crate::db::lock_subject(conn, subject)?;
        }
        let mut ids = Vec::with_capacity(subjects.len());
        for (subject, _) in subjects {
            ids.push(
                diesel::insert_into(login_failures::table)
                    .values((
                        login_failures::subject.eq(subject),
                        login_failures::failed_at.eq(at),
                    ))
                    .returning(login_failures::id)
                    .get_result::<i64>(conn)?,
            );
        }
        for ((subject, limit), own) in subjects.iter().zip(&ids) {
            let before: Vec<NaiveDateTime> = login_failures::table
                .filter(login_failures::subject.eq(subject))
                .filter(login_failures::failed_at.gt(since))
                .filter(login_failures::id.ne(own))
                .order(login_failures::failed_at.asc())
                .select(login_failures::failed_at)
                .load(conn)?;
            if let Some(free_at) = refused_until(*limit, &before, at) {
                // Returning an error rolls the attempt back: refused attempts do not extend
                // the wait.
                return Err(ApiError::too_many_until(Code::AuthRateLimited, free_at, at));
            }
        }
        Ok(ids)
    })
}

/// A successful attempt is not a failure: removes its rows and the failures of its (email,
/// client) pair. The email's failures from everywhere stay: one sign-in by the owner must not
/// hand a distributed guesser a fresh allowance.
pub fn attempt_succeeded(conn: &mut Db, ids: &[i64], pair_subject: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::id.eq_any(ids))).execute(conn)?;
    diesel::delete(login_failures::table.filter(login_failures::subject.eq(pair_subject))).execute(conn)?;
    // Old rows only cost space; trim them now and then.
    diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(window_start())))
        .execute(conn)?;
    Ok(())
}

/// A freshly issued refresh token and the session (family) it starts or continues.
pub struct Issued {
    pub refresh_token: String,
    pub family: String,
}

fn insert_token(
    conn: &mut Db,
    author_id: i64,
    family: &str,
    ttl: std::time::Duration,
) -> Result<String, ApiError> {
    let token = random_token(32)?;
    let created = now();
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(30));
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::author_id.eq(author_id),
            refresh_tokens::family.eq(family),
            refresh_tokens::token_hash.eq(token_hash(&token)),
            refresh_tokens::created_at.eq(created),
            refresh_tokens::expires_at.eq(created + ttl),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Starts a new session for a signed-in account.
pub fn start(conn: &mut Db, author_id: i64, ttl: std::time::Duration) -> Result<Issued, ApiError> {
    let family = random_token(16)?;
    let refresh_token = insert_token(conn, author_id, &family, ttl)?;
    Ok(Issued {
        refresh_token,
        family,
    })
}

/// What a presented refresh token turned out to be.
pub enum Rotation {
    /// Valid: spent now, and replaced by `issued`.
    Rotated { author_id: i64, issued: Issued },
    /// Unknown, expired, revoked, or its account can no longer sign in.
    Refused,
    /// Already spent: someone replayed it. The whole family has been revoked.
    Replayed,
}

/// Spends a refresh token and issues its successor in the same family.
///
/// The spend is one conditional UPDATE, so of two concurrent uses of the same token exactly
/// one wins; the other is treated as a replay. Writing first also keeps SQLite from having
/// to upgrade a read lock inside the transaction. A replay is logged for the audit with
/// `client`, the presenting client's hash.
pub fn rotate(
    conn: &mut Db,
    presented: &str,
    ttl: std::time::Duration,
    client: String,
) -> Result<Rotation, ApiError> {
    let hash = token_hash(presented);
    let at = now();
    let outcome = conn.transaction::<_, ApiError, _>(|conn| {
        let spent = diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(&hash))
                .filter(refresh_tokens::spent_at.is_null())
                .filter(refresh_tokens::revoked_at.is_null())
                .filter(refresh_tokens::expires_at.gt(at)),
        )
        .set(refresh_tokens::spent_at.eq(at))
        .execute(conn)?;
        let row: Option<(i64, String, Option<NaiveDateTime>, bool)> = refresh_tokens::table
            .inner_join(authors::table)
            .filter(refresh_tokens::token_hash.eq(&hash))
            .select((
                refresh_tokens::author_id,
                refresh_tokens::family,
                refresh_tokens::revoked_at,
                authors::active,
            ))
            .first(conn)
            .optional()?;
        let Some((author_id, family, revoked_at, active)) = row else {
            return Ok((Rotation::Refused, None));
        };
        let revoke = |family| Some((family, author_id));
        if spent == 0 {
            // Known but not spendable: spent before (a replay, unless the family was already
            // revoked), or expired.
            let replay = revoked_at.is_none()
                && refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(&hash))
                    .filter(refresh_tokens::spent_at.is_not_null())
                    .count()
                    .get_result::<i64>(conn)?
                    > 0;
            return Ok(if replay {
                (Rotation::Replayed, revoke(family))
            } else {
                (Rotation::Refused, None)
            });
        }
        if !active {
            return Ok((Rotation::Refused, revoke(family)));
        }
        let refresh_token = insert_token(conn, author_id, &family, ttl)?;
        Ok((
            Rotation::Rotated {
                author_id,
                issued: Issued {
                    refresh_token,
                    family,
                },
            },
            None,
        ))
    })?;
    // Revocation is committed on its own: it must stick even though the caller gets a 401.
    let (rotation, revoke) = outcome;
    if let Some((family, author_id)) = revoke {
        conn.transaction::<_, ApiError, _>(|conn| {
            revoke_family(conn, &family)?;
            if matches!(rotation, Rotation::Replayed) {
                // A security event: whoever holds the newer token must sign in again.
                Entry::new(Some(author_id), "session.refresh_reused", Resource::Session, None)
                    .detail(serde_json::json!({ "family_revoked": true }))
                    .client(client)
                    .record(conn)?;
            }
            Ok(())
        })?;
    }
    Ok(rotation)
}

pub fn revoke_family(conn: &mut Db, family: &str) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now()))
    .execute(conn)
}

/// Ends the session a refresh token belongs to, and logs it with `client`, the client's hash.
/// Unknown tokens are ignored: signing out is idempotent, and so is its log (a session
/// already ended is not logged again).
pub fn logout(conn: &mut Db, presented: &str, client: String) -> Result<(), ApiError> {
    let session: Option<(String, i64)> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash(presented)))
        .select((refresh_tokens::family, refresh_tokens::author_id))
        .first(conn)
        .optional()?;
    if let Some((family, author_id)) = session {
        conn.transaction::<_, ApiError, _>(|conn| {
            if revoke_family(conn, &family)? > 0 {
                Entry::new(Some(author_id), "session.logout", Resource::Session, None)
                    .client(client)
                    .record(conn)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Revokes every session of an account, except `keep` (the caller's own, on a password
/// change).
pub fn revoke_all(conn: &mut Db, author_id: i64, keep: Option<&str>) -> QueryResult<usize> {
    let base = refresh_tokens::table
        .filter(refresh_tokens::author_id.eq(author_id))
        .filter(refresh_tokens::revoked_at.is_null());
    match keep {
        Some(family) => diesel::update(base.filter(refresh_tokens::family.ne(family)))
            .set(refresh_tokens::revoked_at.eq(now()))
            .execute(conn),
        None => diesel::update(base)
            .set(refresh_tokens::revoked_at.eq(now()))
            .execute(conn),
    }
}

/// A refused sign-in for the audit log: the account when the email names one (never the email
/// itself), why, and the client's hash.
pub fn login_failed(account: Option<i64>, reason: &str, client: String) -> Entry {
    Entry::new(account, "session.login_failed", Resource::Session, None)
        .detail(json!({ "reason": reason }))
        .client(client)
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized(Code::AuthCredentialsWrong)
}

/// Signs in with email and password from `client` (its hash): the throttle, the password
/// check off the async workers, the audit log, and a new session.
pub async fn login(
    state: &AppState,
    email: &str,
    given: String,
    client: String,
) -> Result<(Account, Issued), ApiError> {
    if given.len() > password::MAX_BYTES {
        return Err(ApiError::invalid(
            FieldError::new("password", FieldCode::TooLong).arg("max", password::MAX_BYTES),
        ));
    }
    let key = accounts::email_key(email);
    let subjects = login_subjects(&key, &client);

    let throttle = subjects.clone();
    let throttled_client = client.clone();
    let (attempt, account) = state
        .db
        .run(move |conn| match begin_attempt(conn, &throttle) {
            Ok(attempt) => Ok((attempt, accounts::find_by_email(conn, &key)?)),
            Err(refused @ ApiError::TooManyRequests { .. }) => {
                // The refused attempt itself was rolled back (it must not extend the wait);
                // the log still hears of it.
                let account = accounts::find_by_email(conn, &key)?.map(|a| a.id);
                login_failed(account, "throttled", throttled_client).record(conn)?;
                Err(refused)
            }
            Err(e) => Err(e),
        })
        .await?;

    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let matches = password::verify_off_thread(given, stored).await?;

    let ttl = state.config.refresh_token_ttl;
    let account = match account {
        Some(a) if matches && a.active => a,
        other => {
            // The attempt stays recorded in the throttle: it was a failure.
            let (id, reason) = match &other {
                None => (None, "unknown_email"),
                Some(a) if !matches => (Some(a.id), "wrong_password"),
                Some(a) => (Some(a.id), "inactive"),
            };
            state
                .db
                .run(move |conn| Ok(login_failed(id, reason, client).record(conn)?))
                .await?;
            tracing::info!("sign-in refused");
            return Err(invalid_credentials());
        }
    };
    let id = account.id;
    let issued = state
        .db
        .run(move |conn| {
            conn.transaction::<_, ApiError, _>(|conn| {
                attempt_succeeded(conn, &attempt, &subjects[0].0)?;
                let issued = start(conn, id, ttl)?;
                Entry::new(Some(id), "session.login", Resource::Session, None)
                    .client(client)
                    .record(conn)?;
                Ok(issued)
            })
        })
        .await?;
    tracing::info!(author_id = id, "signed in");
    Ok((Account::try_from(account)?, issued))
}

/// Changes `user`'s password and ends their other sessions. A wrong current password counts
/// as a failed sign-in from `client` (its hash): guessing it with a stolen access token is
/// throttled like sign-in.
pub async fn change_password(
    state: &AppState,
    user: &AuthUser,
    current_password: String,
    new_password: String,
    client: String,
) -> Result<(), ApiError> {
    let id = user.id;
    // Guessing the current password with a stolen access token is throttled like sign-in.
    let row = state.db.run(move |conn| accounts::find(conn, id)).await?;
    let subjects = login_subjects(
        &row.email.as_deref().map(accounts::email_key).unwrap_or_default(),
        &client,
    );
    if let Err(e) = password::check_new(&new_password, row.email.as_deref(), "new_password") {
        return Err(ApiError::Validation(vec![e]));
    }
    let throttle = subjects.clone();
    let attempt = state.db.run(move |conn| begin_attempt(conn, &throttle)).await?;
    let stored = row.password_hash.clone();
    let new_hash = actix_web::web::block(move || {
        if password::verify(&current_password, stored.as_deref()) {
            password::hash(&new_password).map(Some)
        } else {
            Ok(None)
        }
    })
    .await
    .map_err(password::blocking)??;
    let Some(new_hash) = new_hash else {
        // Counted and throttled as a failed sign-in, so logged as one.
        state
            .db
            .run(move |conn| {
                Ok(login_failed(Some(id), "wrong_password", client)
                    .detail(json!({ "reason": "wrong_password", "during": "password_change" }))
                    .record(conn)?)
            })
            .await?;
        return Err(ApiError::validation("current_password", FieldCode::PasswordWrong));
    };
    let pair_subject = subjects[0].0.clone();
    let keep = user.session.clone();
    state
        .db
        .run(move |conn| {
            conn.transaction::<_, ApiError, _>(|conn| {
                attempt_succeeded(conn, &attempt, &pair_subject)?;
                accounts::set_password(conn, id, &new_hash)?;
                revoke_all(conn, id, Some(&keep))?;
                Entry::new(Some(id), "account.password", Resource::Account, Some(id))
                    .client(client)
                    .record(conn)?;
                Ok(())
            })
        })
        .await?;
    Ok(())
}
