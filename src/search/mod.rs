//! Full-text search over articles, Vietnamese first.
//!
//! Stored text and readers' queries are folded by the same function ([`text::fold`]): lower
//! case, no diacritics, `đ` → `d`, words separated by single spaces. The database then only
//! has to match plain words: SQLite through an FTS5 index, PostgreSQL through a `tsvector`
//! with the `simple` configuration and a GIN index (migration 000005). The folded text is
//! written in the same transaction as the article, so search never sees a half-saved article.

use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Text};

use crate::db::schema::{article_search, articles};
use crate::db::{Backend, Db, MultiBackend};
use crate::error::ApiError;
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
    Summary,
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
            return Err(ApiError::BadRequest(format!(
                "`q` is limited to {MAX_QUERY_CHARS} characters."
            )));
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
            return Err(ApiError::BadRequest(format!(
                "`q` may contain at most {MAX_QUERY_WORDS} words."
            )));
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

    /// The query in FTS5 syntax, every word quoted: `"cai" "cach"*`, `"mot cua"`.
    fn fts5(&self, field: Field) -> String {
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|t| {
                // Folded words hold letters and digits only; doubling quotes keeps that safe
                // should folding ever let one through.
                let words = t.words.join(" ").replace('"', "\"\"");
                if t.prefix {
                    format!("\"{words}\"*")
                } else {
                    format!("\"{words}\"")
                }
            })
            .collect();
        let all = terms.join(" ");
        match field {
            Field::Title => format!("{{title}} : ({all})"),
            Field::Summary => format!("{{summary}} : ({all})"),
            Field::Anywhere => all,
        }
    }

    /// The query in `to_tsquery` syntax: `cai & cach:*`, `(mot <-> cua)`, with `:A`/`:B`
    /// restricting words to the title or the summary.
    fn tsquery(&self, field: Field) -> String {
        let weight = match field {
            Field::Title => "A",
            Field::Summary => "B",
            Field::Anywhere => "",
        };
        let word = |w: &str, prefix: bool| {
            let star = if prefix { "*" } else { "" };
            if star.is_empty() && weight.is_empty() {
                // `to_tsquery` reads operators and quotes; folded words have none, and
                // quoting makes sure of it.
                format!("'{}'", w.replace('\'', "''"))
            } else {
                format!("'{}':{star}{weight}", w.replace('\'', "''"))
            }
        };
        self.terms
            .iter()
            .map(|t| {
                if t.phrase {
                    let inner: Vec<String> = t.words.iter().map(|w| word(w, false)).collect();
                    format!("({})", inner.join(" <-> "))
                } else {
                    word(&t.words[0], t.prefix)
                }
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// `articles.id` is one of the articles matching this query in `field`.
    pub fn matches(
        &self,
        backend: Backend,
        field: Field,
    ) -> Box<dyn BoxableExpression<articles::table, MultiBackend, SqlType = Bool>> {
        match backend {
            Backend::Sqlite => Box::new(
                sql::<Bool>("articles.id IN (SELECT rowid FROM article_fts WHERE article_fts MATCH ")
                    .bind::<Text, _>(self.fts5(field))
                    .sql(")"),
            ),
            Backend::Postgres => Box::new(
                sql::<Bool>(
                    "articles.id IN (SELECT article_id FROM article_search \
                     WHERE document @@ to_tsquery('simple', ",
                )
                .bind::<Text, _>(self.tsquery(field))
                .sql("))"),
            ),
        }
    }

    /// How well an article matches, for `sort=relevance`: 2 when the title alone matches the
    /// whole query, 1 when the summary alone does, 0 when only the text as a whole does.
    pub fn tier(
        &self,
        backend: Backend,
    ) -> Box<dyn BoxableExpression<articles::table, MultiBackend, SqlType = Integer>> {
        let (title, summary) = match backend {
            Backend::Sqlite => (self.fts5(Field::Title), self.fts5(Field::Summary)),
            Backend::Postgres => (self.tsquery(Field::Title), self.tsquery(Field::Summary)),
        };
        let set = match backend {
            Backend::Sqlite => "articles.id IN (SELECT rowid FROM article_fts WHERE article_fts MATCH ",
            Backend::Postgres => {
                "articles.id IN (SELECT article_id FROM article_search WHERE document @@ to_tsquery('simple', "
            }
        };
        let close = match backend {
            Backend::Sqlite => ")",
            Backend::Postgres => "))",
        };
        Box::new(
            sql::<Integer>("(CASE WHEN ")
                .sql(set)
                .bind::<Text, _>(title)
                .sql(close)
                .sql(" THEN 2 WHEN ")
                .sql(set)
                .bind::<Text, _>(summary)
                .sql(close)
                .sql(" THEN 1 ELSE 0 END)"),
        )
    }
}

/// Readable text of sanitised HTML: tags become spaces, so words of neighbouring blocks stay
/// apart. Only the escapes the sanitiser writes need decoding (it re-serialises everything),
/// and folding turns any other leftover punctuation into spaces anyway.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        rest = match rest[open..].find('>') {
            Some(close) => &rest[open + close + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Writes an article's folded text. Call it inside the transaction that saves the article.
pub fn index(
    conn: &mut Db,
    article_id: i64,
    title: &str,
    summary: Option<&str>,
    body_html: &str,
) -> QueryResult<()> {
    let title = text::fold(title);
    let summary = text::fold(summary.unwrap_or_default());
    let body = text::fold(&plain_text(body_html));
    let changed = diesel::update(article_search::table.find(article_id))
        .set((
            article_search::title.eq(&title),
            article_search::summary.eq(&summary),
            article_search::body.eq(&body),
        ))
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(article_search::table)
            .values((
                article_search::article_id.eq(article_id),
                article_search::title.eq(&title),
                article_search::summary.eq(&summary),
                article_search::body.eq(&body),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Indexes articles that have no search text yet: those stored before search existed.
/// Returns how many were indexed. Works in batches, each its own transaction; processes
/// starting together take turns on each batch instead of indexing the same articles twice.
pub fn index_missing(conn: &mut Db) -> QueryResult<usize> {
    let mut done = 0;
    loop {
        let indexed = conn.transaction(|conn| {
            crate::db::lock_subject(conn, "search:index-missing")?;
            let batch: Vec<(i64, String, Option<String>, String)> = articles::table
                .filter(diesel::dsl::not(diesel::dsl::exists(
                    article_search::table.filter(article_search::article_id.eq(articles::id)),
                )))
                .order(articles::id)
                .limit(500)
                .select((
                    articles::id,
                    articles::title,
                    articles::summary,
                    articles::body_html,
                ))
                .load(conn)?;
            for (id, title, summary, body_html) in &batch {
                index(conn, *id, title, summary.as_deref(), body_html)?;
            }
            if !batch.is_empty() {
                crate::cache::changed(conn, crate::cache::Scope::Content)?;
            }
            QueryResult::Ok(batch.len())
        })?;
        if indexed == 0 {
            return Ok(done);
        }
        done += indexed;
    }
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
        assert_eq!(s.fts5(Field::Anywhere), r#""cai" "cach" "hanh" "chin"*"#);
        assert_eq!(s.tsquery(Field::Anywhere), "'cai' & 'cach' & 'hanh' & 'chin':*");
    }

    #[test]
    fn quoted_parts_are_phrases_without_prefix() {
        let s = parse(r#"thủ tục "một cửa""#);
        assert_eq!(s.fts5(Field::Anywhere), r#""thu" "tuc" "mot cua""#);
        assert_eq!(s.tsquery(Field::Anywhere), "'thu' & 'tuc' & ('mot' <-> 'cua')");
        assert_eq!(parse("“Đống Đa”").fts5(Field::Anywhere), r#""dong da""#);
    }

    #[test]
    fn fields_restrict_where_words_may_match() {
        let s = parse("dong da");
        assert_eq!(s.fts5(Field::Title), r#"{title} : ("dong" "da"*)"#);
        assert_eq!(s.tsquery(Field::Title), "'dong':A & 'da':*A");
    }

    #[test]
    fn operators_and_quotes_of_the_engines_are_plain_punctuation() {
        let s = parse(r#"a & b | !c:* <-> NEAR(d) ' OR "#);
        assert_eq!(s.fts5(Field::Anywhere), r#""a" "b" "c" "near" "d" "or"*"#);
        assert_eq!(
            s.tsquery(Field::Anywhere),
            "'a' & 'b' & 'c' & 'near' & 'd' & 'or':*"
        );
    }

    #[test]
    fn empty_long_and_wordless_queries() {
        assert_eq!(Search::parse("   ").unwrap(), None);
        assert!(parse("!!! ...").is_empty());
        assert!(Search::parse(&"a".repeat(MAX_QUERY_CHARS + 1)).is_err());
        assert!(Search::parse(&"ab ".repeat(MAX_QUERY_WORDS + 1)).is_err());
    }

    #[test]
    fn html_becomes_separated_words() {
        assert_eq!(
            text::fold(&plain_text("<p>Một&nbsp;cửa</p><p>A &amp; B &lt;3</p>")),
            "mot cua a b 3"
        );
    }
}
