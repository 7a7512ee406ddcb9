//! PostgreSQL's search documents computed by the server, for bulk imports.
//!
//! `article_search.document`, `lead` and `heading` are `to_tsvector('simple', …)` of the folded
//! title, summary and body, joined by `||` (migration 000011). Computed by the database, they
//! cost more than the rest of an imported article's writes together, on the one process that
//! serves the importer's connection; computed here, on the threads that prepare lines, they
//! travel in `tsvector`'s binary form, which the database only copies.
//!
//! Only text whose every word PostgreSQL's default parser reads as one token is computed here:
//! folded text is words of letters and digits separated by single spaces, and for words of
//! ASCII letters and digits the parser's tokens are the words, except where a word starts like
//! a number in scientific notation (`1e5x` is `1e5` and `x`). Any other text, and text beyond
//! the limits where `to_tsvector` drops or merges positions, is left to the database's trigger,
//! so the stored documents are the same either way.

use std::io::Write;

use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};

use super::Folded;

/// PostgreSQL's `tsvector`.
#[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(name = "tsvector"))]
pub struct TsVector;

/// A `tsvector` in PostgreSQL's binary form.
#[derive(Debug, Clone, PartialEq, Eq, diesel::expression::AsExpression)]
#[diesel(sql_type = TsVector)]
pub struct Vector(Vec<u8>);

impl ToSql<TsVector, Pg> for Vector {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(&self.0)?;
        Ok(IsNull::No)
    }
}

/// An article's three documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vectors {
    /// Title, summary and body.
    pub document: Vector,
    /// Title and summary.
    pub lead: Vector,
    pub heading: Vector,
}

/// Positions above this are all stored as this one by `to_tsvector` (`MAXENTRYPOS - 1`).
const MAX_POSITION: usize = 16_383;
/// Positions `to_tsvector` keeps of one word (`MAXNUMPOS - 1`); `||` keeps one more.
const MAX_POSITIONS_PER_WORD: usize = 255;
/// Longer words are dropped by `to_tsvector` (from 2,047 bytes); far above any real word.
const MAX_WORD_BYTES: usize = 1_000;
/// Well under a `tsvector`'s limit of 1 MB of lexemes and positions.
const MAX_TEXT_BYTES: usize = 256 * 1024;

impl Vectors {
    /// The documents `to_tsvector('simple', …)` makes of `folded`, or `None` when only the
    /// database can tell (see the module's documentation).
    pub fn of(folded: &Folded) -> Option<Vectors> {
        let words_of = |text: &str| text.split(' ').filter(|w| !w.is_empty()).count();
        let title = words_of(&folded.title);
        let lead = title + words_of(&folded.summary);
        let words: Vec<&str> = [&folded.title, &folded.summary, &folded.body]
            .into_iter()
            .flat_map(|text| text.split(' ').filter(|w| !w.is_empty()))
            .collect();
        let bytes: usize = words.iter().map(|w| w.len()).sum();
        if words.len() > MAX_POSITION || bytes > MAX_TEXT_BYTES || !words.iter().all(|w| one_token(w)) {
            return None;
        }
        Some(Vectors {
            document: encode(&words)?,
            lead: encode(&words[..lead])?,
            heading: encode(&words[..title])?,
        })
    }
}

/// True when PostgreSQL's default parser reads `word` as one token of the same text.
pub(super) fn one_token(word: &str) -> bool {
    let bytes = word.as_bytes();
    let Some(first) = bytes.first() else {
        return false;
    };
    bytes.len() <= MAX_WORD_BYTES
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        // `1e5x` is the number `1e5` and the word `x`; any word that could start so is left
        // to the parser.
        && !(first.is_ascii_digit() && bytes.contains(&b'e'))
}

/// `words`, their positions counted from 1, in `tsvector`'s binary form: the number of
/// lexemes, then each lexeme in byte order, NUL-terminated, with its positions' count and the
/// positions (weight bits zero). `None` when a word repeats more often than `to_tsvector`
/// keeps positions of.
fn encode(words: &[&str]) -> Option<Vector> {
    // Sorted by the word's first eight bytes as an integer before the word itself: that
    // settles most comparisons without comparing strings, a sixth of an import's preparing
    // on PostgreSQL when sorted by the words alone. Folded words never hold a NUL byte, so
    // padding with zeros keeps byte order.
    let mut at: Vec<(u64, &str, u16)> = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        let mut head = [0u8; 8];
        let n = word.len().min(head.len());
        head[..n].copy_from_slice(&word.as_bytes()[..n]);
        at.push((u64::from_be_bytes(head), word, u16::try_from(i + 1).ok()?));
    }
    at.sort_unstable();
    let lexemes: Vec<&[(u64, &str, u16)]> = at.chunk_by(|a, b| a.1 == b.1).collect();
    if lexemes.iter().any(|l| l.len() > MAX_POSITIONS_PER_WORD) {
        return None;
    }
    let size = 4 + lexemes
        .iter()
        .map(|l| l[0].1.len() + 3 + 2 * l.len())
        .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&i32::try_from(lexemes.len()).ok()?.to_be_bytes());
    for lexeme in lexemes {
        out.extend_from_slice(lexeme[0].1.as_bytes());
        out.push(0);
        out.extend_from_slice(&u16::try_from(lexeme.len()).ok()?.to_be_bytes());
        for (_, _, position) in lexeme {
            out.extend_from_slice(&position.to_be_bytes());
        }
    }
    Some(Vector(out))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn folded(title: &str, summary: &str, body: &str) -> Folded {
        Folded {
            title: title.to_owned(),
            summary: summary.to_owned(),
            body: body.to_owned(),
        }
    }

    #[test]
    fn lexemes_are_sorted_with_their_positions_across_the_three_texts() {
        let v = Vectors::of(&folded("b a", "", "a c")).unwrap();
        let mut expected = 3i32.to_be_bytes().to_vec();
        expected.extend(b"a\0\x00\x02\x00\x02\x00\x03");
        expected.extend(b"b\0\x00\x01\x00\x01");
        expected.extend(b"c\0\x00\x01\x00\x04");
        assert_eq!(v.document.0, expected);
        assert_eq!(v.heading, v.lead);
        assert_eq!(
            Vectors::of(&folded("", "", "")).unwrap().heading.0,
            0i32.to_be_bytes()
        );
    }

    #[test]
    fn lexemes_sort_byte_wise_past_their_first_eight_bytes() {
        let v = Vectors::of(&folded("", "", "abcdefghij abcdefgh abcdefghi a abcdefghij")).unwrap();
        let mut expected = 4i32.to_be_bytes().to_vec();
        expected.extend(b"a\0\x00\x01\x00\x04");
        expected.extend(b"abcdefgh\0\x00\x01\x00\x02");
        expected.extend(b"abcdefghi\0\x00\x01\x00\x03");
        expected.extend(b"abcdefghij\0\x00\x02\x00\x01\x00\x05");
        assert_eq!(v.document.0, expected);
    }

    #[test]
    fn text_the_parser_reads_otherwise_is_left_to_the_database() {
        assert!(Vectors::of(&folded("1e5x", "", "")).is_none());
        assert!(Vectors::of(&folded("a", "", "tiếng")).is_none());
        assert!(Vectors::of(&folded("a", "", &"x ".repeat(256))).is_none());
        assert!(Vectors::of(&folded("abc123 123abc", "e1", "2024")).is_some());
    }
}
