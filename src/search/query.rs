//! A reader's query: parsed and folded, then matched by either backend.

use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use super::FTS5_PREFIX_INDEXED;
use super::pairs::{PAIR_BYTES, phrase_rows};
use super::pg_walk::{count_by_pairs, from_gin_alone, pg_walk};
use crate::db::schema::articles;
use crate::db::{Backend, Db, MultiBackend};
use crate::error::ApiError;
use crate::i18n::{Code, Msg};
use crate::text;

/// Longest `q` accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words a query may require.
pub const MAX_QUERY_WORDS: usize = 16;

/// One thing every match must contain: a word, or a quoted phrase of words in order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    words: Vec<String>,
    /// A quoted phrase: its words in this order, next to each other.
    phrase: bool,
    /// The last word of an unquoted query, matched as a prefix while the reader is typing.
    prefix: bool,
}

/// A parsed `q`: every term is required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    terms: Vec<Term>,
}

/// Which text a match must be found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    /// Title and summary.
    Lead,
    Anywhere,
}

impl Search {
    /// Parses a reader's query. `None` for an empty one (no search). Quoted parts are phrases;
    /// the other words are required each on their own, the last one as a prefix.
    pub fn parse(raw: &str) -> Result<Option<Search>, ApiError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::BadRequest(
                Msg::new(Code::SearchTooLong).arg("max", MAX_QUERY_CHARS),
            ));
        }
        let mut terms = Vec::new();
        // Straight and typographic double quotes both delimit phrases: Vietnamese keyboards
        // and word processors produce “ ” as often as ".
        for (i, part) in raw.split(['"', '“', '”']).enumerate() {
            let folded = text::fold(part);
            let words: Vec<String> = folded
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect();
            if words.is_empty() {
                continue;
            }
            if i % 2 == 1 {
                terms.push(Term {
                    words,
                    phrase: true,
                    prefix: false,
                });
            } else {
                terms.extend(words.into_iter().map(|w| Term {
                    words: vec![w],
                    phrase: false,
                    prefix: false,
                }));
            }
        }
        if terms.iter().map(|t| t.words.len()).sum::<usize>() > MAX_QUERY_WORDS {
            return Err(ApiError::BadRequest(
                Msg::new(Code::SearchTooManyWords).arg("max", MAX_QUERY_WORDS),
            ));
        }
        // Only a query that ends in an unquoted word is still being typed.
        let ends_in_word = !raw.ends_with(['"', '“', '”']);
        if ends_in_word && let Some(last) = terms.last_mut().filter(|t| !t.phrase) {
            last.prefix = true;
        }
        Ok(Some(Search { terms }))
    }

    /// True when folding left nothing to look for (`q=!!!`): such a query matches nothing.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The query in FTS5 syntax, every word quoted and every term required:
    /// `"cai" AND "cach"*`, `"mot cua"`. `completions`, when given, replace the prefix of the
    /// last word with the words it completes to: `("chinh" OR "chinhs")`.
    fn fts5(&self, completions: Option<&[String]>) -> String {
        // Folded words hold letters and digits only; doubling quotes keeps that safe should
        // folding ever let one through.
        let quoted = |w: &str| format!("\"{}\"", w.replace('"', "\"\""));
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|t| match (t.prefix, completions) {
                (true, Some(words)) => {
                    let words: Vec<String> = words.iter().map(|w| quoted(w)).collect();
                    format!("({})", words.join(" OR "))
                }
                (true, None) => format!("{}*", quoted(&t.words.join(" "))),
                (false, _) => quoted(&t.words.join(" ")),
            })
            .collect();
        terms.join(" AND ")
    }

    /// The prefix of the last word, when it is one that [`completions`] should expand.
    fn long_prefix(&self) -> Option<&str> {
        let last = self.terms.last().filter(|t| t.prefix)?;
        let word = last.words.first()?;
        (word.chars().count() > FTS5_PREFIX_INDEXED).then_some(word.as_str())
    }

    /// The query in `to_tsquery` syntax: `'cai' & 'cach':*`, `('mot' <-> 'cua')`.
    fn tsquery(&self) -> String {
        // `to_tsquery` reads operators and quotes; folded words have none, and quoting makes
        // sure of it.
        let word = |w: &str| format!("'{}'", w.replace('\'', "''"));
        self.terms
            .iter()
            .map(|t| {
                let words: Vec<String> = t.words.iter().map(|w| word(w)).collect();
                match (t.phrase, t.prefix) {
                    (true, _) => format!("({})", words.join(" <-> ")),
                    (false, true) => format!("{}:*", words.join(" & ")),
                    (false, false) => words.join(" & "),
                }
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// The pairs of adjacent words every match holds in its document (see
    /// [`super::pairs`]), joined by commas for `string_to_array`; `None` when the query has no
    /// phrase of two words or more that PostgreSQL reads word for word.
    ///
    /// A phrase holding a word the parser splits (`1e5x`) gives no pairs: its lexemes are not
    /// its words. Folded words hold no comma, and the length bound is the index's.
    fn pairs(&self) -> Option<String> {
        let mut pairs = Vec::new();
        for term in self.terms.iter().filter(|t| t.phrase) {
            if !term.words.iter().all(|w| super::vectors::one_token(w)) {
                continue;
            }
            for two in term.words.windows(2) {
                if two[0].len() + two[1].len() < PAIR_BYTES {
                    pairs.push(format!("{} {}", two[0], two[1]));
                }
            }
        }
        (!pairs.is_empty()).then(|| pairs.join(","))
    }

    /// True when the pairs alone decide a paired row: the query is phrases of two words
    /// each, every one with pairs (see [`Search::pairs`]). A row holds `a b` among its pairs
    /// exactly when its document has `a` and `b` at positions next to each other, which is
    /// what `'a' <-> 'b'` asks, so its document need not be read. A longer phrase's pairs may
    /// stand apart, and other words are tested on the document.
    fn pairs_decide(&self) -> bool {
        self.terms.iter().all(|t| {
            t.phrase
                && t.words.len() == 2
                && t.words.iter().all(|w| super::vectors::one_token(w))
                && t.words.iter().map(String::len).sum::<usize>() < PAIR_BYTES
        })
    }

    /// True when [`Search::count_by_pairs`] counts this query's matches: on PostgreSQL, when
    /// its pairs decide them.
    pub fn counted_by_pairs(&self, conn: &Db) -> bool {
        conn.backend() == Backend::Postgres && self.pairs_decide()
    }

    /// This query's matches anywhere with keys in `keys`, counted up to `limit`, where its
    /// pairs decide them (see [`Search::counted_by_pairs`]); `None` otherwise. No document of
    /// a paired row is read: a walk in key order tests each row's document (some 14 µs) and
    /// counted a common phrase's first 1,000 matches in 0.2 s ("mot cua", one article in
    /// ten of 100,000), where its pairs' index hands them over for about 5 µs each.
    pub fn count_by_pairs(
        &self,
        conn: &mut Db,
        keys: std::ops::Range<i64>,
        limit: i64,
    ) -> QueryResult<Option<i64>> {
        let (Db::Pg(c), Some(pairs)) = (conn, self.pairs().filter(|_| self.pairs_decide())) else {
            return Ok(None);
        };
        count_by_pairs(c, &self.tsquery(), &pairs, &(keys.start.max(0)..keys.end), limit).map(Some)
    }

    /// `articles.id` is one of the articles matching this query anywhere (for lists that
    /// filter and sort in SQL: the editorial list).
    pub fn matches(
        &self,
        backend: Backend,
    ) -> Box<dyn BoxableExpression<articles::table, MultiBackend, SqlType = Bool>> {
        match backend {
            Backend::Sqlite => Box::new(
                sql::<Bool>(
                    "articles.id IN (SELECT article_id FROM article_search WHERE key IN \
                     (SELECT rowid FROM article_fts WHERE article_fts MATCH ",
                )
                .bind::<Text, _>(self.fts5(None))
                .sql("))"),
            ),
            Backend::Postgres => match self.pairs() {
                Some(pairs) => {
                    // `phrase_rows`, its binds in order: the pairs, then the query, twice
                    // unless the pairs decide.
                    let exact = self.pairs_decide();
                    let rows = phrase_rows("article_id", "\u{1}", "\u{1}", None, exact);
                    let parts: Vec<&str> = rows.split('\u{1}').collect();
                    let part = |i: usize| parts.get(i).copied().unwrap_or_default();
                    let tsquery = self.tsquery();
                    let head = sql::<Bool>("articles.id IN (")
                        .sql(part(0))
                        .bind::<Text, _>(pairs)
                        .sql(part(1))
                        .bind::<Text, _>(tsquery.clone())
                        .sql(part(2));
                    match exact {
                        true => Box::new(head.sql(")")),
                        false => Box::new(head.bind::<Text, _>(tsquery).sql(part(3)).sql(")")),
                    }
                }
                None => Box::new(
                    sql::<Bool>(
                        "articles.id IN (SELECT article_id FROM article_search \
                         WHERE document @@ to_tsquery('simple', ",
                    )
                    .bind::<Text, _>(self.tsquery())
                    .sql("))"),
                ),
            },
        }
    }

    /// On PostgreSQL, the articles matching anywhere, published or not, when there are at most
    /// [`FEW_MATCHES`] of them; `None` when there are more, and on SQLite.
    ///
    /// A list ordered on another column filters by [`Search::matches`], which PostgreSQL
    /// answers for a word it takes for common (a prefix, always) by walking the order's index
    /// and testing each row: every row, when the word is in none. Read from GIN alone first,
    /// a rarer word's matches are a list of ids to look up instead.
    pub fn few_matches(&self, conn: &mut Db) -> QueryResult<Option<Vec<i64>>> {
        let Db::Pg(c) = conn else {
            return Ok(None);
        };
        let ids: Vec<i64> = from_gin_alone(c, |c| {
            let loaded = match self.pairs() {
                Some(pairs) => diesel::sql_query(format!(
                    "{} LIMIT $3",
                    phrase_rows("article_id", "$2", "$1", None, self.pairs_decide())
                ))
                .bind::<Text, _>(self.tsquery())
                .bind::<Text, _>(pairs)
                .bind::<BigInt, _>(FEW_MATCHES + 1)
                .load::<Matched>(c),
                None => diesel::sql_query(
                    "SELECT article_id FROM article_search WHERE document @@ to_tsquery('simple', $1) LIMIT $2",
                )
                .bind::<Text, _>(self.tsquery())
                .bind::<BigInt, _>(FEW_MATCHES + 1)
                .load::<Matched>(c),
            };
            loaded.map(|rows| rows.into_iter().map(|m| m.article_id).collect())
        })?;
        Ok((ids.len() as i64 <= FEW_MATCHES).then_some(ids))
    }

    /// Up to `limit` published articles matching in `field` with keys in `keys`, newest (or
    /// oldest) first: `(key, article_id)` pairs, in order. More when PostgreSQL took a phrase's
    /// matches from its pairs, which costs the same for up to 1,024: all are the next matches
    /// in order.
    ///
    /// Both backends walk the matches in key order and stop after `limit`: SQLite's FTS5
    /// returns matches in rowid (key) order; PostgreSQL walks `article_search_key` for a
    /// window of rows and tests each, then collects the rest from GIN (see [`pg_walk`]).
    pub fn walk(
        &self,
        conn: &mut Db,
        field: Field,
        newest_first: bool,
        keys: std::ops::Range<i64>,
        limit: i64,
    ) -> QueryResult<Vec<(i64, i64)>> {
        let order = if newest_first { "DESC" } else { "ASC" };
        let (lower, upper) = (keys.start.max(0), keys.end);
        let hits: Vec<Hit> = match conn {
            Db::Sqlite(c) => {
                let completions = match self.long_prefix() {
                    Some(prefix) => match completions(c, prefix)? {
                        Completions::None => return Ok(Vec::new()),
                        Completions::Words(words) => Some(words),
                        Completions::TooMany => None,
                    },
                    None => None,
                };
                let completions = completions.as_deref();
                let index = match field {
                    Field::Anywhere => "article_fts",
                    Field::Lead => "article_lead_fts",
                    Field::Title => "article_title_fts",
                };
                let query = self.fts5(completions);
                diesel::sql_query(format!(
                    "SELECT s.key, s.article_id FROM {index} JOIN article_search s ON s.key = {index}.rowid \
                     WHERE {index} MATCH ? AND {index}.rowid >= ? AND {index}.rowid < ? \
                     ORDER BY {index}.rowid {order} LIMIT ?"
                ))
                .bind::<Text, _>(query)
                .bind::<BigInt, _>(lower)
                .bind::<BigInt, _>(upper)
                .bind::<BigInt, _>(limit)
                .load(c)?
            }
            Db::Pg(c) => {
                let column = match field {
                    Field::Anywhere => "document",
                    Field::Lead => "lead",
                    Field::Title => "heading",
                };
                let phrase = self.terms.iter().any(|t| t.phrase);
                // Only the whole text has its pairs indexed: titles and leads are short, and
                // testing them is cheap.
                let pairs = self.pairs().filter(|_| field == Field::Anywhere);
                let pairs = pairs.as_deref().map(|p| (p, self.pairs_decide()));
                return pg_walk(
                    c,
                    column,
                    &self.tsquery(),
                    phrase,
                    pairs,
                    newest_first,
                    lower..upper,
                    limit,
                );
            }
        };
        Ok(hits.into_iter().map(|h| (h.key, h.article_id)).collect())
    }
}

/// Runs `read`, which filters by a search's matches (see [`Search::matches`]) when `searched`,
/// so that PostgreSQL takes the matches from GIN and never tests every row.
///
/// Its planner does not count what testing a row costs (reading its document, some 14 µs),
/// and for a word ending in a prefix it estimates hundreds of matches: a list of `xyzzy`
/// by views, or an editor's search for it, read all 100,000 documents (1.3–1.4 s). Sequential
/// scans are off for the transaction `read` runs in, so the planner picks GIN or, for a common
/// word, walks the order's index and tests the rows it meets.
pub fn matches_from_index<T, E: From<diesel::result::Error>>(
    conn: &mut Db,
    searched: bool,
    read: impl FnOnce(&mut Db) -> Result<T, E>,
) -> Result<T, E> {
    if !searched || conn.backend() != crate::db::Backend::Postgres {
        return read(conn);
    }
    conn.transaction(|conn| {
        diesel::sql_query("SELECT set_config('enable_seqscan', 'off', true)").execute(conn)?;
        read(conn)
    })
}

/// Inside [`matches_from_index`]'s `read`, with the same `searched`: `count`, which counts the
/// rows filtered by a search's matches, run with plain index scans off as well, so that
/// PostgreSQL hashes the matches GIN hands over and joins them with the rows counted.
///
/// With index scans allowed, it counted a common word's matches by walking `article_search`
/// by its key and testing each row's document: a first request of "ha noi" by views (61,791
/// matches of 100,000 articles) took 0.55–0.62 s, nearly all of it counting, against about
/// 0.1 s with the matches from GIN. The page that follows walks the order's index, so the
/// setting ends with the count.
pub fn count_from_gin(
    conn: &mut Db,
    searched: bool,
    count: impl FnOnce(&mut Db) -> QueryResult<i64>,
) -> QueryResult<i64> {
    if !searched || conn.backend() != crate::db::Backend::Postgres {
        return count(conn);
    }
    diesel::sql_query("SELECT set_config('enable_indexscan', 'off', true)").execute(conn)?;
    let total = count(conn)?;
    diesel::sql_query("SET LOCAL enable_indexscan TO DEFAULT").execute(conn)?;
    Ok(total)
}

/// Most matches [`Search::few_matches`] lists. Past them the order's index is walked: a word
/// with more matches is met at least once in a hundred rows of 100,000 articles. A common
/// word pays for reading this many from GIN first (some 12 ms for 1,001 of 61,791).
const FEW_MATCHES: i64 = 1_000;

/// An article matching a search.
#[derive(QueryableByName)]
struct Matched {
    #[diesel(sql_type = BigInt)]
    article_id: i64,
}

/// A match of a walk: its search key and article.
#[derive(QueryableByName)]
pub(super) struct Hit {
    #[diesel(sql_type = BigInt)]
    pub key: i64,
    #[diesel(sql_type = BigInt)]
    pub article_id: i64,
}

/// A longer prefix is looked up in `search_terms` and searched as the words it completes to,
/// up to this many.
const MAX_COMPLETIONS: i64 = 64;

enum Completions {
    /// No indexed word starts so: nothing can match.
    None,
    Words(Vec<String>),
    /// More than [`MAX_COMPLETIONS`]: FTS5's own prefix search it is.
    TooMany,
}

/// The indexed words that start with `prefix`.
///
/// FTS5 answers a prefix it has no prefix index for by merging the whole match lists of every
/// word that starts so before returning anything: for a common word (`chinh*`), some
/// 10 ms where the word itself takes under one. The same words as an `OR` of whole words are
/// read in order and stop after a page.
fn completions(conn: &mut diesel::SqliteConnection, prefix: &str) -> QueryResult<Completions> {
    #[derive(QueryableByName)]
    struct Term {
        #[diesel(sql_type = Text)]
        term: String,
    }
    // Every word starting with `prefix` sorts between it and it followed by the greatest
    // character, byte-wise as SQLite compares text.
    let upper = format!("{prefix}{}", char::MAX);
    let words: Vec<Term> =
        diesel::sql_query("SELECT term FROM search_terms WHERE term >= ? AND term < ? ORDER BY term LIMIT ?")
            .bind::<Text, _>(prefix)
            .bind::<Text, _>(upper)
            .bind::<BigInt, _>(MAX_COMPLETIONS + 1)
            .load(conn)?;
    Ok(match words.len() as i64 {
        0 => Completions::None,
        n if n > MAX_COMPLETIONS => Completions::TooMany,
        _ => Completions::Words(words.into_iter().map(|t| t.term).collect()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(q: &str) -> Search {
        Search::parse(q).unwrap().unwrap()
    }

    #[test]
    fn words_are_folded_and_the_last_is_a_prefix() {
        let s = parse("CẢI CÁCH hành chín");
        assert_eq!(s.fts5(None), r#""cai" AND "cach" AND "hanh" AND "chin"*"#);
        assert_eq!(s.long_prefix(), Some("chin"));
        assert_eq!(
            s.fts5(Some(&["chinh".into(), "chinhs".into()])),
            r#""cai" AND "cach" AND "hanh" AND ("chinh" OR "chinhs")"#
        );
        assert_eq!(parse("cai ca").long_prefix(), Some("ca"));
        assert_eq!(parse("cai c").long_prefix(), None, "one letter has its own index");
        assert_eq!(s.tsquery(), "'cai' & 'cach' & 'hanh' & 'chin':*");
    }

    #[test]
    fn quoted_parts_are_phrases_without_prefix() {
        let s = parse(r#"thủ tục "một cửa""#);
        assert_eq!(s.fts5(None), r#""thu" AND "tuc" AND "mot cua""#);
        assert_eq!(s.long_prefix(), None);
        assert_eq!(s.tsquery(), "'thu' & 'tuc' & ('mot' <-> 'cua')");
        assert_eq!(parse("“Đống Đa”").fts5(None), r#""dong da""#);
    }

    #[test]
    fn a_phrase_requires_the_pairs_of_its_adjacent_words() {
        assert_eq!(parse(r#"thủ tục "một cửa""#).pairs().as_deref(), Some("mot cua"));
        assert_eq!(
            parse(r#""Zalo PCI mở" "Đống Đa" ha"#).pairs().as_deref(),
            Some("zalo pci,pci mo,dong da")
        );
        // No phrase, a phrase of one word, a word the parser splits (`1e5` and `x`): nothing
        // to look up. (A query is too short for a pair the index leaves out.)
        assert_eq!(parse("zalo pci").pairs(), None);
        assert_eq!(parse(r#""zalo""#).pairs(), None);
        assert_eq!(parse(r#""1e5x zalo""#).pairs(), None);
        assert_eq!(
            parse(r#""1e5x zalo" "mot cua""#).pairs().as_deref(),
            Some("mot cua")
        );
        // The condition of `matches` binds into four parts of `phrase_rows`.
        let parts = |exact| {
            phrase_rows("article_id", "\u{1}", "\u{1}", None, exact)
                .split('\u{1}')
                .count()
        };
        assert_eq!(parts(false), 4);
        assert_eq!(parts(true), 3);
        // The pairs decide phrases of two words, and nothing else.
        assert!(parse(r#""mot cua" "dong da""#).pairs_decide());
        assert!(!parse(r#""mot cua" dong"#).pairs_decide());
        assert!(!parse(r#""zalo pci mo""#).pairs_decide());
        assert!(!parse(r#""1e5x zalo""#).pairs_decide());
    }

    #[test]
    fn operators_and_quotes_of_the_engines_are_plain_punctuation() {
        let s = parse(r#"a & b | !c:* <-> NEAR(d) ' OR "#);
        assert_eq!(
            s.fts5(None),
            r#""a" AND "b" AND "c" AND "near" AND "d" AND "or"*"#
        );
        assert_eq!(s.tsquery(), "'a' & 'b' & 'c' & 'near' & 'd' & 'or':*");
    }

    #[test]
    fn empty_long_and_wordless_queries() {
        assert_eq!(Search::parse("   ").unwrap(), None);
        assert!(parse("!!! ...").is_empty());
        assert!(Search::parse(&"a".repeat(MAX_QUERY_CHARS + 1)).is_err());
        assert!(Search::parse(&"ab ".repeat(MAX_QUERY_WORDS + 1)).is_err());
    }
}
