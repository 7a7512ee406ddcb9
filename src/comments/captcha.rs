//! The image captcha of the public comment form.
//!
//! Nothing is stored when a captcha is handed out. The token carries a random nonce and its
//! expiry, signed with a key kept in the database, plus a second keyed tag that binds the
//! answer to the nonce; the answer itself is not in the token, and without the key the tag
//! cannot be checked offline. A token is spent by inserting its nonce into `captcha_spent`
//! under a unique key, in the same transaction as the comment it admits, so it verifies
//! exactly once across any number of processes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::db::Db;
use crate::db::schema::captcha_spent;
use crate::error::{ApiError, FieldError};
use crate::i18n::FieldCode;

/// How long a code may be answered.
pub const TTL_SECS: i64 = 600;
/// Characters per code.
pub const LENGTH: u32 = 5;
/// Letters and digits that cannot be taken for one another: no 0/O, 1/l/I. Shown in upper
/// case; answers are compared without case.
pub const ALPHABET: [char; 31] = [
    '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'M', 'N', 'P',
    'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z',
];

/// A fresh code: the token to send back, the answer, and the picture.
pub struct Challenge {
    pub token: String,
    pub answer: String,
    pub png: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

/// A token whose signature and expiry are good.
#[derive(Debug, Clone)]
pub struct Authentic {
    pub nonce: String,
    pub expires_at: DateTime<Utc>,
    answer_tag: Vec<u8>,
}

/// Why a captcha answer is refused; the message is for the reader filling in the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Malformed,
    Expired,
    Wrong,
    Used,
}

impl Refusal {
    /// The 422 that names the form's `captcha_answer`.
    pub fn error(self) -> ApiError {
        ApiError::invalid(self.field_error())
    }

    /// The refusal as the form's `captcha_answer` error.
    pub fn field_error(self) -> FieldError {
        FieldError::new(
            "captcha_answer",
            match self {
                Refusal::Missing => FieldCode::CaptchaMissing,
                Refusal::Malformed => FieldCode::CaptchaInvalid,
                Refusal::Expired => FieldCode::CaptchaExpired,
                Refusal::Wrong => FieldCode::CaptchaWrong,
                Refusal::Used => FieldCode::CaptchaUsed,
            },
        )
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail; an empty key would still be a
    // deterministic MAC, and keys here are 256 random bits.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac
}

/// Answers are typed by people: case and spaces do not matter.
fn normalise_answer(answer: &str) -> String {
    answer
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn answer_tag(key: &[u8], nonce: &str, answer: &str) -> Vec<u8> {
    mac(
        key,
        &[b"answer", nonce.as_bytes(), normalise_answer(answer).as_bytes()],
    )
    .finalize()
    .into_bytes()
    .to_vec()
}

fn signature(key: &[u8], nonce: &str, expires: i64, tag: &[u8]) -> Hmac<Sha256> {
    mac(
        key,
        &[b"token", nonce.as_bytes(), expires.to_string().as_bytes(), tag],
    )
}

/// Signs a token for `answer`; separate from [`generate`] so the answer can be chosen (tests,
/// and callers that draw their own pictures).
pub fn mint(key: &[u8], answer: &str, expires_at: DateTime<Utc>) -> Result<String, ApiError> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| ApiError::internal(format!("OS random generator: {e}")))?;
    let nonce = URL_SAFE_NO_PAD.encode(nonce);
    let expires = expires_at.timestamp();
    let tag = answer_tag(key, &nonce, answer);
    let sig = signature(key, &nonce, expires, &tag).finalize().into_bytes();
    Ok(format!(
        "{nonce}.{expires}.{}.{}",
        URL_SAFE_NO_PAD.encode(&tag),
        URL_SAFE_NO_PAD.encode(sig)
    ))
}

/// Draws a new code. CPU work of a few milliseconds: run it off the async workers.
pub fn generate(key: &[u8], now: DateTime<Utc>) -> Result<Challenge, ApiError> {
    let mut picture = captcha::Captcha::new();
    picture
        .set_chars(&ALPHABET)
        .add_chars(LENGTH)
        .apply_filter(captcha::filters::Noise::new(0.2))
        .apply_filter(captcha::filters::Wave::new(2.0, 12.0).horizontal())
        .apply_filter(captcha::filters::Dots::new(10))
        .view(220, 100);
    let (answer, png) = picture
        .as_tuple()
        .ok_or_else(|| ApiError::internal("the captcha picture could not be encoded"))?;
    if answer.chars().count() != LENGTH as usize {
        return Err(ApiError::internal(
            "the captcha font lacks a character of the alphabet",
        ));
    }
    let expires_at = now + chrono::Duration::seconds(TTL_SECS);
    Ok(Challenge {
        token: mint(key, &answer, expires_at)?,
        answer,
        png,
        expires_at,
    })
}

/// Checks the token's signature and expiry (not the answer).
pub fn authenticate(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<Authentic, Refusal> {
    let mut parts = token.split('.');
    let (Some(nonce), Some(expires), Some(tag), Some(sig), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(Refusal::Malformed);
    };
    let expires: i64 = expires.parse().map_err(|_| Refusal::Malformed)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| Refusal::Malformed)?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| Refusal::Malformed)?;
    if nonce.is_empty() || nonce.len() > 64 {
        return Err(Refusal::Malformed);
    }
    signature(key, nonce, expires, &tag)
        .verify_slice(&sig)
        .map_err(|_| Refusal::Malformed)?;
    let expires_at = DateTime::from_timestamp(expires, 0).ok_or(Refusal::Malformed)?;
    if expires_at <= now {
        return Err(Refusal::Expired);
    }
    Ok(Authentic {
        nonce: nonce.to_owned(),
        expires_at,
        answer_tag: tag,
    })
}

impl Authentic {
    /// Whether `answer` is the code of this token; compared in constant time.
    pub fn answered_by(&self, key: &[u8], answer: &str) -> bool {
        mac(
            key,
            &[
                b"answer",
                self.nonce.as_bytes(),
                normalise_answer(answer).as_bytes(),
            ],
        )
        .verify_slice(&self.answer_tag)
        .is_ok()
    }
}

/// Records the token as spent. Inside the caller's transaction: if what the token admits is
/// refused after all, the token stays usable. `Refusal::Used` when someone spent it first.
pub fn spend(conn: &mut Db, token: &Authentic) -> Result<Result<(), Refusal>, ApiError> {
    let inserted = diesel::insert_into(captcha_spent::table)
        .values((
            captcha_spent::nonce.eq(&token.nonce),
            captcha_spent::expires_at.eq(token.expires_at.naive_utc()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(Ok(())),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(Err(Refusal::Used)),
        Err(e) => Err(e.into()),
    }
}

/// A wrong answer spends the token too, so a code cannot be guessed at repeatedly; the form
/// shows a new one. Already spent is fine here.
pub fn burn(conn: &mut Db, token: &Authentic) -> Result<(), ApiError> {
    match spend(conn, token)? {
        Ok(()) | Err(_) => Ok(()),
    }
}

/// Forgets nonces whose tokens have expired anyway.
pub fn purge_expired(conn: &mut Db, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(captcha_spent::table.filter(captcha_spent::expires_at.lt(now.naive_utc()))).execute(conn)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_minted_token_accepts_its_answer_in_any_case_and_nothing_else() {
        let now = Utc::now();
        let token = mint(KEY, "AB3K9", now + chrono::Duration::seconds(60)).unwrap();
        let authentic = authenticate(KEY, &token, now).unwrap();
        assert!(authentic.answered_by(KEY, "ab3k9"));
        assert!(authentic.answered_by(KEY, " AB3 K9 "));
        assert!(!authentic.answered_by(KEY, "AB3K8"));
        assert!(!authentic.answered_by(b"another key of thirty-two bytes!", "AB3K9"));
    }

    #[test]
    fn tampered_foreign_and_expired_tokens_are_refused() {
        let now = Utc::now();
        let token = mint(KEY, "AB3K9", now + chrono::Duration::seconds(60)).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = (now.timestamp() + 999_999).to_string();
        assert_eq!(
            authenticate(KEY, &parts.join("."), now).unwrap_err(),
            Refusal::Malformed
        );
        assert_eq!(
            authenticate(b"another key of thirty-two bytes!", &token, now).unwrap_err(),
            Refusal::Malformed
        );
        assert_eq!(
            authenticate(KEY, &token, now + chrono::Duration::seconds(61)).unwrap_err(),
            Refusal::Expired
        );
        for garbage in ["", "a.b.c", "a.b.c.d.e", "x.1.!!.??", "..."] {
            assert_eq!(authenticate(KEY, garbage, now).unwrap_err(), Refusal::Malformed);
        }
    }

    #[test]
    fn generated_codes_use_the_unambiguous_alphabet_and_draw_a_png() {
        let challenge = generate(KEY, Utc::now()).unwrap();
        assert_eq!(challenge.answer.chars().count(), LENGTH as usize);
        assert!(challenge.answer.chars().all(|c| ALPHABET.contains(&c)));
        assert!(challenge.png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let authentic = authenticate(KEY, &challenge.token, Utc::now()).unwrap();
        assert!(authentic.answered_by(KEY, &challenge.answer.to_lowercase()));
    }
}
