//! How the API writes times: RFC 3339 in UTC, to the second, with `Z`
//! (`2020-01-14T13:59:00Z`), whatever the backend and whatever the fraction stored.
//!
//! Times are stored to the microsecond (see [`crate::db::now`]), and chrono would print as
//! many fractional digits as a value happens to need (none, 3 or 6), so two fields of one
//! answer could differ in shape. Every time a response or a webhook body carries goes through
//! here instead. Only the text changes: stored values, comparisons and cursors keep their
//! microseconds.
//!
//! Response fields use `#[serde(serialize_with = "crate::time::rfc3339")]` (or
//! `crate::time::rfc3339_opt` for an `Option`); JSON built by hand uses [`format`].
//!
//! The other way, times a client sends as query parameters (`from`, `to`) are read by
//! [`parse_bound`].

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::Serializer;

use crate::error::ApiError;
use crate::i18n::{Code, Msg};

/// The API's text for a time.
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Serialises a time as [`format`] writes it.
pub fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(t))
}

/// Serialises an optional time as [`format`] writes it, `None` as `null`.
pub fn rfc3339_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

/// `2020-01-14` or an RFC 3339 instant. A bare date as `to` means the end of that day.
pub fn parse_bound(raw: &str, name: &str, end_of_day: bool) -> Result<NaiveDateTime, ApiError> {
    if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = if end_of_day {
            date.succ_opt().unwrap_or(date)
        } else {
            date
        };
        return Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default());
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.naive_utc())
        .map_err(|_| ApiError::BadRequest(Msg::new(Code::QueryInvalidDate).arg("name", name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_time_has_one_shape() {
        for (raw, expected) in [
            ("2020-01-14T13:59:00Z", "2020-01-14T13:59:00Z"),
            ("2020-01-14T13:59:00.120Z", "2020-01-14T13:59:00Z"),
            ("2020-01-14T13:59:00.123456Z", "2020-01-14T13:59:00Z"),
            ("2020-01-14T20:59:00.999999+07:00", "2020-01-14T13:59:00Z"),
        ] {
            let t = DateTime::parse_from_rfc3339(raw).map(|t| t.with_timezone(&Utc));
            assert_eq!(t.as_ref().map(format).ok().as_deref(), Some(expected), "{raw}");
        }
    }
}
