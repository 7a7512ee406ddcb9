//! Column decoders for the rows readers' pages load by the dozen, where diesel's own are
//! slower than they need to be.
//!
//! - **Times on SQLite** ([`Stored`], [`StoredOpt`]). SQLite keeps a `Timestamp` as text,
//!   and diesel reads each one with `NaiveDateTime::parse_from_str`, which interprets its
//!   format string again for every value: with two times per summary, newer, older and
//!   related link, that was 7% of an uncached article page. Diesel writes times in one shape
//!   (`%F %T%.f`, see [`super::now`]), which [`parse`] reads directly; anything else (a value
//!   written by hand, a julian day) goes to diesel's own parser, so every value diesel reads
//!   is still read. PostgreSQL sends times as binary integers, which diesel decodes as they
//!   are.
//! - **Vietnamese text** ([`Utf8Text`]). Diesel checks SQLite text for UTF-8 twice, with the
//!   standard library's check, which is quick for ASCII and slow for Vietnamese, whose
//!   letters are mostly two or three bytes: 5% of an uncached page, most of it the rendered
//!   body, and 3% of a list, the titles and summaries. `simdutf8` checks it once, with the
//!   CPU's vector instructions. Text that is not UTF-8 is read lossily, as diesel reads it.
//!
//! A row opts in field by field: `#[diesel(deserialize_as = Stored)]` on a `NaiveDateTime`,
//! `StoredOpt` on an `Option<NaiveDateTime>`, `Utf8Text` on a `String`, `Utf8TextOpt` on an
//! `Option<String>`.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::Pg;
use diesel::sql_types::{Nullable, Text, Timestamp};
use diesel::sqlite::{Sqlite, SqliteValue};

use super::MultiBackend;

/// A stored time.
#[derive(Debug, Clone, Copy, FromSqlRow)]
pub struct Stored(NaiveDateTime);

/// A stored time, or none.
#[derive(Debug, Clone, Copy, FromSqlRow)]
pub struct StoredOpt(Option<NaiveDateTime>);

impl From<Stored> for NaiveDateTime {
    fn from(t: Stored) -> Self {
        t.0
    }
}

impl From<StoredOpt> for Option<NaiveDateTime> {
    fn from(t: StoredOpt) -> Self {
        t.0
    }
}

/// `YYYY-MM-DD HH:MM:SS`, with a fraction of one to nine digits or none: the text diesel
/// writes. `None` for any other text, or a date or time that does not exist.
fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    let shaped =
        b.len() >= 19 && b[4] == b'-' && b[7] == b'-' && b[10] == b' ' && b[13] == b':' && b[16] == b':';
    if !shaped {
        return None;
    }
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(number(&b[0..4])?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(&b[5..7])?, number(&b[8..10])?)?;
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            // Nine digits at most: below 10^9, and the scale keeps it there.
            number(digits)? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(
        number(&b[11..13])?,
        number(&b[14..16])?,
        number(&b[17..19])?,
        nanos,
    )?;
    Some(date.and_time(time))
}

impl FromSql<Timestamp, Sqlite> for Stored {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(t) = parse(value.read_text()) {
            return Ok(Stored(t));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Stored)
    }
}

impl FromSql<Timestamp, Pg> for Stored {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Stored)
    }
}

impl FromSql<Timestamp, MultiBackend> for Stored {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl<DB: Backend> FromSql<Nullable<Timestamp>, DB> for StoredOpt
where
    Stored: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        <Stored as FromSql<Timestamp, DB>>::from_sql(value).map(|t| StoredOpt(Some(t.0)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(value) => Self::from_sql(value),
            None => Ok(StoredOpt(None)),
        }
    }
}

/// A text, much of it outside ASCII.
#[derive(Debug, Clone, FromSqlRow)]
pub struct Utf8Text(String);

/// A text, much of it outside ASCII, or none.
#[derive(Debug, Clone, FromSqlRow)]
pub struct Utf8TextOpt(Option<String>);

impl From<Utf8TextOpt> for Option<String> {
    fn from(t: Utf8TextOpt) -> Self {
        t.0
    }
}

impl<DB: Backend> FromSql<Nullable<Text>, DB> for Utf8TextOpt
where
    Utf8Text: FromSql<Text, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        <Utf8Text as FromSql<Text, DB>>::from_sql(value).map(|t| Utf8TextOpt(Some(t.0)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(value) => Self::from_sql(value),
            None => Ok(Utf8TextOpt(None)),
        }
    }
}

impl From<Utf8Text> for String {
    fn from(t: Utf8Text) -> Self {
        t.0
    }
}

impl Utf8Text {
    fn of(bytes: &[u8]) -> Self {
        Utf8Text(match simdutf8::basic::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        })
    }
}

impl FromSql<Text, Sqlite> for Utf8Text {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        // The bytes as stored, unchecked: a text's blob form is the text itself.
        Ok(Utf8Text::of(value.read_blob()))
    }
}

impl FromSql<Text, Pg> for Utf8Text {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(Utf8Text::of(value.as_bytes()))
    }
}

impl FromSql<Text, MultiBackend> for Utf8Text {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Text>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What diesel's own reading gives for the first format it tries, the one it writes.
    fn chrono(text: &str) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(text, "%F %T%.f").ok()
    }

    #[test]
    fn reads_what_diesel_writes_as_chrono_does() {
        let mut t = NaiveDate::from_ymd_opt(1999, 12, 31)
            .and_then(|d| d.and_hms_micro_opt(23, 59, 58, 999_999))
            .unwrap_or_default();
        // Steps of a prime number of microseconds: every field, fractions with and without
        // trailing zeros, leap days and the turn of years.
        for _ in 0..20_000 {
            for text in [
                t.format("%F %T%.f").to_string(),
                t.format("%F %T").to_string(),
                t.format("%F %T%.3f").to_string(),
                t.format("%F %T%.9f").to_string(),
            ] {
                assert_eq!(parse(&text), chrono(&text), "{text}");
                assert!(parse(&text).is_some(), "{text}");
            }
            t += chrono::TimeDelta::microseconds(7_919_000_003);
        }
    }

    #[test]
    fn leaves_every_other_text_to_diesel() {
        for text in [
            "",
            "2020-01-14",
            "2020-01-14T13:59:00",
            "2020-01-14 13:59:00Z",
            "2020-01-14 13:59:00+07:00",
            "2020-01-14 13:59:00.",
            "2020-01-14 13:59:00.1234567890",
            "2020-02-30 13:59:00",
            "2020-01-14 24:00:00",
            "2020-01-14 13:59:60",
            "2020-01-14 13:5a:00",
            "+2020-01-14 13:59:00",
            "2458863.0833",
            "２020-01-14 13:59:00",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn texts_are_read_whole_and_broken_ones_lossily() {
        let text = "Cải cách hành chính — Sở Nội vụ Hà Nội. ".repeat(300);
        assert_eq!(Utf8Text::of(text.as_bytes()).0, text);
        let mut broken = text.clone().into_bytes();
        broken[1] = 0xff;
        assert_eq!(Utf8Text::of(&broken).0, String::from_utf8_lossy(&broken));
        assert_eq!(Utf8Text::of(b"").0, "");
    }
}
