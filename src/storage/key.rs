//! Object keys: what a caller may name in the store.
//!
//! Keys reach the store from request paths (`/media/<key>`), so they are checked before any
//! I/O: a key that could climb out of the media directory, or that a file system and an S3
//! server would read differently, is refused outright instead of being normalised.

use super::StoreError;

/// Longest key accepted; S3 allows 1024 bytes, and content-addressed keys are far shorter.
pub const MAX_KEY_LEN: usize = 1024;

/// Checks a key: relative (no leading `/`), only `[a-z0-9/._-]`, no `..` anywhere, no empty
/// or `.` segment, no trailing `/`. Upper case is refused rather than folded so that one file
/// has exactly one name on case-sensitive and case-insensitive file systems alike.
pub fn validate_key(key: &str) -> Result<(), StoreError> {
    let refuse = |why: &str| Err(StoreError::InvalidKey(format!("`{}`: {why}", shorten(key))));
    if key.is_empty() {
        return refuse("empty");
    }
    if key.len() > MAX_KEY_LEN {
        return refuse("longer than 1024 bytes");
    }
    if key.starts_with('/') {
        return refuse("must be relative");
    }
    if let Some(c) = key
        .chars()
        .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '/' | '.' | '_' | '-'))
    {
        return refuse(&format!("`{}` is not one of a-z 0-9 / . _ -", c.escape_default()));
    }
    if key.contains("..") {
        return refuse("must not contain `..`");
    }
    if key.split('/').any(|segment| segment.is_empty() || segment == ".") {
        return refuse("empty or `.` path segment");
    }
    Ok(())
}

/// Checks a listing prefix: empty (everything) or a key-like directory path, with an optional
/// trailing `/`. Returns it without the trailing `/`.
pub fn validate_prefix(prefix: &str) -> Result<&str, StoreError> {
    let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
    if trimmed.is_empty() && prefix.is_empty() {
        return Ok("");
    }
    validate_key(trimmed)?;
    Ok(trimmed)
}

/// Error messages echo the key; a hostile one must not flood the logs.
fn shorten(key: &str) -> String {
    const SHOWN: usize = 80;
    if key.chars().count() <= SHOWN {
        key.escape_default().to_string()
    } else {
        let head: String = key.chars().take(SHOWN).collect();
        format!("{}…", head.escape_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_addressed_keys_pass() {
        for key in [
            "ab/cd/0123456789abcdef-640.webp",
            "original/ab/cd/x_y.jpg",
            "a",
            "a.b/c-d_e",
        ] {
            assert!(validate_key(key).is_ok(), "{key}");
        }
    }

    #[test]
    fn escaping_or_ambiguous_keys_are_refused() {
        for key in [
            "",
            "../x",
            "a/../b",
            "a/..",
            "..",
            "a..b",
            "/abs",
            "A B",
            "Ab",
            "a b",
            "a//b",
            "a/",
            "./a",
            "a/./b",
            "a\\b",
            "a%2e%2e/b",
            "a\0b",
            "ảnh.jpg",
        ] {
            assert!(
                matches!(validate_key(key), Err(StoreError::InvalidKey(_))),
                "{key:?} passed"
            );
        }
        assert!(validate_key(&"a".repeat(MAX_KEY_LEN + 1)).is_err());
    }

    #[test]
    fn prefixes() {
        assert_eq!(validate_prefix("").ok(), Some(""));
        assert_eq!(validate_prefix("ab/").ok(), Some("ab"));
        assert_eq!(validate_prefix("ab/cd").ok(), Some("ab/cd"));
        assert!(validate_prefix("/").is_err());
        assert!(validate_prefix("../").is_err());
        assert!(validate_prefix("ab//").is_err());
    }
}
