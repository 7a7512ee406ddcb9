//! The opaque cursors of public lists: a sort key and an id, and how times become keys.

use base64::Engine;
use chrono::NaiveDateTime;

use crate::error::ApiError;
use crate::i18n::Code;

/// A keyset position: the sort value and id of the last item of a page.
pub(super) fn encode_cursor(key: i64, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{key}:{id}"))
}

pub(super) fn decode_cursor(raw: &str) -> Result<(i64, i64), ApiError> {
    let invalid = || ApiError::bad_request(Code::QueryInvalidCursor);
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(text).map_err(|_| invalid())?;
    let (key, id) = text.split_once(':').ok_or_else(invalid)?;
    Ok((
        key.parse().map_err(|_| invalid())?,
        id.parse().map_err(|_| invalid())?,
    ))
}

pub(super) fn micros(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

pub(super) fn from_micros(m: i64) -> Result<NaiveDateTime, ApiError> {
    chrono::DateTime::from_timestamp_micros(m)
        .map(|t| t.naive_utc())
        .ok_or_else(|| ApiError::bad_request(Code::QueryInvalidCursor))
}
