//! argon2id password hashing with OWASP's minimum parameters (19 MiB, t=2, p=1).
//! Callers run these on the blocking pool: one hash costs tens of milliseconds of CPU.

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{ApiError, FieldError};
use crate::i18n::FieldCode;

pub const MIN_CHARS: usize = 10;
pub const MAX_BYTES: usize = 1024;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, ApiError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("hashing a password: {e}")))
}

/// True when `password` matches `stored`. With no stored hash (unknown email, or a byline
/// without credentials) a dummy hash is checked anyway, so the answer takes as long as a
/// wrong password and reveals nothing.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("dummy password that never matches").ok());
    let (candidate, real) = match stored {
        Some(stored) => (Some(stored), true),
        None => (dummy.as_deref(), false),
    };
    let Some(parsed) = candidate.and_then(|c| PasswordHash::new(c).ok()) else {
        return false;
    };
    hasher().verify_password(password.as_bytes(), &parsed).is_ok() && real
}

/// [`hash`] on the blocking pool, so the async worker serves other requests meanwhile.
pub async fn hash_off_thread(password: String) -> Result<String, ApiError> {
    actix_web::web::block(move || hash(&password))
        .await
        .map_err(blocking)?
}

/// [`verify`] on the blocking pool.
pub async fn verify_off_thread(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    actix_web::web::block(move || verify(&password, stored.as_deref()))
        .await
        .map_err(blocking)
}

/// A task on the blocking pool that could not finish (the pool shut down or the task
/// panicked).
pub fn blocking(e: actix_web::error::BlockingError) -> ApiError {
    ApiError::internal(format!("blocking task failed: {e}"))
}

/// The rules for a new password, as a field error on `field`.
pub fn check_new(password: &str, email: Option<&str>, field: &str) -> Result<(), FieldError> {
    if password.chars().count() < MIN_CHARS {
        return Err(FieldError::new(field, FieldCode::TooShort).arg("min", MIN_CHARS));
    }
    if password.len() > MAX_BYTES {
        return Err(FieldError::new(field, FieldCode::TooLong).arg("max", MAX_BYTES));
    }
    if email.is_some_and(|e| e.trim().eq_ignore_ascii_case(password.trim())) {
        return Err(FieldError::new(field, FieldCode::PasswordEqualsEmail));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery").unwrap_or_default();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("correct horse batterY", Some(&h)));
        assert!(!verify("anything", None));
        assert!(!verify("anything", Some("not a hash")));
    }

    #[test]
    fn new_passwords_follow_the_rules() {
        assert!(check_new("short", None, "password").is_err());
        assert!(check_new(&"x".repeat(1025), None, "password").is_err());
        assert!(check_new("editor@example.vn", Some("Editor@Example.vn"), "password").is_err());
        assert!(check_new("mật khẩu dài đủ", None, "password").is_ok());
    }
}
