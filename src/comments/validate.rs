//! Checks and clean-up of what commenters and moderators send: lengths, characters,
//! phone numbers, emails, moderation notes.

use sha2::{Digest, Sha256};

use super::dto::CommentInput;
use crate::error::{ApiError, FieldError};
use crate::i18n::FieldCode;
use crate::text::{self, char_len, fold};

pub const NAME_MAX: usize = 100;
pub const TITLE_MAX: usize = 200;
pub const CONTENT_MAX: usize = 5000;
pub const NOTE_MAX: usize = 1000;
const EMAIL_MAX: usize = 254;
const USER_AGENT_MAX: usize = 512;

/// The form after trimming, NFC normalisation and checks.
#[derive(Debug, Clone)]
pub struct CleanForm {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub title: String,
    pub content: String,
    pub parent_id: Option<i64>,
    /// Name, title and content folded (see [`fold`]), for spam words and search.
    pub folded: String,
    /// Identifies the content for the duplicate check, whatever its case, diacritics or
    /// punctuation.
    pub content_hash: String,
}

impl CleanForm {
    pub(super) fn new(name: String, title: String, content: String, parent_id: Option<i64>) -> Self {
        let folded_content = fold(&content);
        let content_hash = hex::encode(Sha256::digest(folded_content.as_bytes()));
        let folded = [fold(&name), fold(&title), folded_content]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        CleanForm {
            name,
            phone: None,
            email: None,
            title,
            content,
            parent_id,
            folded,
            content_hash,
        }
    }

    /// What the desk's text search looks in.
    pub fn search_text(&self) -> String {
        let mut text = self.folded.clone();
        for extra in [&self.phone, &self.email].into_iter().flatten() {
            text.push(' ');
            text.push_str(&fold(extra));
        }
        text
    }
}

/// Trimmed, NFC, with Windows line ends made plain; checked for length in characters.
pub(super) fn required_text(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let value = text::clean(&value.replace("\r\n", "\n"));
    if !text::storable(&value) {
        errors.push(FieldError::new(field, FieldCode::InvalidCharacter));
    } else {
        errors.extend(FieldError::length(field, char_len(&value), 1, max));
    }
    value
}

fn optional_text(value: Option<&str>) -> Option<String> {
    value.map(text::clean).filter(|v| !v.is_empty())
}

/// A phone number in Vietnamese national form (`0912345678`, landlines `02439...`) or
/// international form (`+84912345678`), with spaces, dots, hyphens and brackets ignored.
/// Returns the number without separators.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let (plus, digits) = match compact.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, compact.as_str()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ok = if plus {
        match digits.strip_prefix("84") {
            // Vietnam: the national number without its leading 0, 9 or 10 digits.
            Some(national) => (9..=10).contains(&national.len()) && !national.starts_with('0'),
            // E.164: a country code that does not start with 0, at most 15 digits in all.
            None => (8..=15).contains(&digits.len()) && !digits.starts_with('0'),
        }
    } else {
        // National: 0, then a 9-digit mobile or 10-digit landline number.
        digits.starts_with('0') && (10..=11).contains(&digits.len()) && !digits[1..].starts_with('0')
    };
    ok.then_some(compact)
}

pub fn validate_form(input: &CommentInput) -> (CleanForm, Vec<FieldError>) {
    let mut errors = Vec::new();
    let name = required_text("name", &input.name, NAME_MAX, &mut errors);
    let title = required_text("title", &input.title, TITLE_MAX, &mut errors);
    let content = required_text("content", &input.content, CONTENT_MAX, &mut errors);
    let phone = match optional_text(input.phone.as_deref()) {
        None => None,
        Some(raw) => match normalise_phone(&raw) {
            Some(p) => Some(p),
            None => {
                errors.push(FieldError::new("phone", FieldCode::InvalidPhone));
                None
            }
        },
    };
    let email = optional_text(input.email.as_deref());
    if let Some(e) = &email {
        let ok = e.len() <= EMAIL_MAX
            && text::storable(e)
            && email_address::EmailAddress::parse_with_options(e, Default::default()).is_ok();
        if !ok {
            errors.push(FieldError::new("email", FieldCode::InvalidEmail));
        }
    }
    if input.parent_id.is_some_and(|id| id <= 0) {
        errors.push(FieldError::new("parent_id", FieldCode::InvalidValue));
    }
    let mut form = CleanForm::new(name, title, content, input.parent_id);
    form.phone = phone;
    form.email = email;
    (form, errors)
}

pub fn validate_note(note: Option<&str>) -> Result<Option<String>, ApiError> {
    let note = optional_text(note);
    if let Some(n) = &note {
        if !text::storable(n) {
            return Err(ApiError::validation("note", FieldCode::InvalidCharacter));
        }
        if char_len(n) > NOTE_MAX {
            return Err(ApiError::invalid(
                FieldError::new("note", FieldCode::TooLong).arg("max", NOTE_MAX),
            ));
        }
    }
    Ok(note)
}

/// A user agent worth keeping: printable, and cut to a sane length.
pub fn clean_user_agent(raw: Option<&str>) -> Option<String> {
    let ua: String = raw?
        .chars()
        .filter(|c| !c.is_control())
        .take(USER_AGENT_MAX)
        .collect();
    Some(ua.trim().to_owned()).filter(|u| !u.is_empty())
}
