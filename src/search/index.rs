//! What search stores of an article, written in the transaction that saves it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::{FTS5_PREFIX_INDEXED, Vectors, vectors};
use crate::db::Db;
use crate::db::schema::{article_search, articles};
use crate::text;

/// The distinct words of folded texts that go into `search_terms`: those longer than the
/// prefix index covers (see `query::completions`), sorted.
fn distinct_terms<'a>(texts: &[&'a str]) -> Vec<&'a str> {
    let mut words: Vec<&str> = texts
        .iter()
        .flat_map(|t| t.split(' '))
        .filter(|w| w.chars().nth(FTS5_PREFIX_INDEXED).is_some())
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// Adds words to `search_terms` (SQLite only), those already there left as they are.
fn remember_words(conn: &mut Db, words: &[&str]) -> QueryResult<()> {
    let Db::Sqlite(c) = conn else {
        return Ok(());
    };
    for chunk in words.chunks(500) {
        let values = vec!["(?)"; chunk.len()].join(", ");
        let mut query = diesel::sql_query(format!(
            "INSERT OR IGNORE INTO search_terms (term) VALUES {values}"
        ))
        .into_boxed();
        for word in chunk {
            query = query.bind::<Text, _>(*word);
        }
        query.execute(c)?;
    }
    Ok(())
}

/// Where an article sorts in search: newest published first, every other article below zero.
/// A published article's key is its publication time in microseconds since 1900, times 512,
/// plus its id modulo 512, which keeps apart the keys of articles published in the same
/// microsecond (and [`free_key`] settles the rare clash that remains).
pub fn key(article_id: i64, published: Option<NaiveDateTime>) -> i64 {
    const EPOCH_1900_MICROS: i64 = -2_208_988_800_000_000;
    match published {
        Some(at) => {
            let micros = at
                .and_utc()
                .timestamp_micros()
                .saturating_sub(EPOCH_1900_MICROS)
                .max(0);
            micros
                .saturating_mul(512)
                .saturating_add(article_id.rem_euclid(512))
        }
        None => -article_id.max(1),
    }
}

/// The keys of articles published from `from` (inclusive) to `until` (exclusive): every key
/// of a time is at least that of the time itself with article id 0.
pub fn keys_between(from: Option<NaiveDateTime>, until: NaiveDateTime) -> std::ops::Range<i64> {
    key(0, from.or(Some(NaiveDateTime::MIN)))..key(0, Some(until))
}

/// `wanted`, or the nearest free key below it.
fn free_key(conn: &mut Db, article_id: i64, wanted: i64) -> QueryResult<i64> {
    let mut candidate = wanted;
    loop {
        let holder: Option<i64> = article_search::table
            .filter(article_search::key.eq(candidate))
            .select(article_search::article_id)
            .first(conn)
            .optional()?;
        match holder {
            Some(other) if other != article_id => candidate -= 1,
            _ => return Ok(candidate),
        }
    }
}

/// Moves an article in the search order after its status or publication time changed. Call
/// it inside the transaction of the change.
pub fn rekey(conn: &mut Db, article_id: i64, published: Option<NaiveDateTime>) -> QueryResult<()> {
    let key = free_key(conn, article_id, key(article_id, published))?;
    if matches!(conn, Db::Sqlite(_)) {
        let current: Option<i64> = article_search::table
            .filter(article_search::article_id.eq(article_id))
            .select(article_search::key)
            .first(conn)
            .optional()?;
        if current == Some(key) {
            return Ok(());
        }
        // The key is the indexes' rowid, and a contentless index cannot move a row: the
        // article is indexed again from its own columns, as saved.
        let (title, summary, body_html): (String, Option<String>, String) = articles::table
            .find(article_id)
            .select((articles::title, articles::summary, articles::body_html))
            .first(conn)?;
        return index(
            conn,
            article_id,
            published,
            &title,
            summary.as_deref(),
            &body_html,
        );
    }
    diesel::update(
        article_search::table
            .filter(article_search::article_id.eq(article_id))
            .filter(article_search::key.ne(key)),
    )
    .set(article_search::key.eq(key))
    .execute(conn)?;
    Ok(())
}

/// The escapes the sanitiser writes, and what they stand for.
const ESCAPES: [(&str, char); 6] = [
    ("&nbsp;", ' '),
    ("&lt;", '<'),
    ("&gt;", '>'),
    ("&quot;", '"'),
    ("&#39;", '\''),
    ("&amp;", '&'),
];

/// Readable text of sanitised HTML: tags become spaces, so words of neighbouring blocks stay
/// apart. Only the escapes the sanitiser writes need decoding (it re-serialises everything),
/// and folding turns any other leftover punctuation into spaces anyway. One pass: an import
/// runs this over every body.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.bytes().position(|b| b == b'<' || b == b'&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('<') {
            out.push(' ');
            rest = rest.find('>').map_or("", |close| &rest[close + 1..]);
        } else if let Some((escape, c)) = ESCAPES.iter().find(|(e, _)| rest.starts_with(e)) {
            out.push(*c);
            rest = &rest[escape.len()..];
        } else {
            out.push('&');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// An article's text as search stores it: folded title, summary and body.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    pub title: String,
    pub summary: String,
    pub body: String,
}

impl Folded {
    /// Folds an article's text; pure work, which the importer does away from the connection.
    pub fn of(title: &str, summary: Option<&str>, body_html: &str) -> Folded {
        Folded {
            title: text::fold(title),
            summary: text::fold(summary.unwrap_or_default()),
            body: text::fold(&plain_text(body_html)),
        }
    }

    /// The distinct words that go into `search_terms` (longer than the prefix index covers),
    /// sorted and separated by spaces: the importer's preparing threads find them, so its
    /// writing thread only looks up each article's few hundred words instead of every word.
    pub fn terms(&self) -> String {
        distinct_terms(&[&self.title, &self.summary, &self.body]).join(" ")
    }
}

/// Writes an article's folded text. Call it inside the transaction that saves the article;
/// `published` is its publication time when it is published (see [`key`]).
pub fn index(
    conn: &mut Db,
    article_id: i64,
    published: Option<NaiveDateTime>,
    title: &str,
    summary: Option<&str>,
    body_html: &str,
) -> QueryResult<()> {
    let folded = Folded::of(title, summary, body_html);
    let Folded { title, summary, body } = &folded;
    remember_words(conn, &distinct_terms(&[title, summary, body]))?;
    if let Db::Sqlite(_) = conn {
        // Replaced whole: a contentless index cannot update a row whose text it does not keep.
        diesel::delete(article_search::table.filter(article_search::article_id.eq(article_id)))
            .execute(conn)?;
        let key = free_key(conn, article_id, key(article_id, published))?;
        diesel::insert_into(article_search::table)
            .values((
                article_search::article_id.eq(article_id),
                article_search::key.eq(key),
            ))
            .execute(conn)?;
        return write_fts(conn, &[(key, &folded)]);
    }
    let key = free_key(conn, article_id, key(article_id, published))?;
    let changed = diesel::update(article_search::table.filter(article_search::article_id.eq(article_id)))
        .set((
            article_search::key.eq(key),
            article_search::title.eq(title),
            article_search::summary.eq(summary),
            article_search::body.eq(body),
        ))
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(article_search::table)
            .values((
                article_search::article_id.eq(article_id),
                article_search::key.eq(key),
                article_search::title.eq(title),
                article_search::summary.eq(summary),
                article_search::body.eq(body),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Adds folded texts under their keys to SQLite's three contentless FTS5 indexes (migration
/// 000009), which hold no text to read back: the server gives it, as the triggers over a
/// table of text did before.
fn write_fts(conn: &mut Db, rows: &[(i64, &Folded)]) -> QueryResult<()> {
    let Db::Sqlite(c) = conn else {
        return Ok(());
    };
    const INDEXES: [(&str, usize); 3] = [
        ("article_fts", 3),
        ("article_lead_fts", 2),
        ("article_title_fts", 1),
    ];
    // One statement per index for a whole batch of the importer: FTS5 writes out what it
    // buffered at every statement, and each write-out is a segment to merge later. It also
    // writes out before any row whose rowid is not above the previous one's, so the rows go
    // in the order of their keys: an archive in any other order (by date descending, or as
    // it came) made a segment of every row or two and spent the import merging them.
    let mut rows = rows.to_vec();
    rows.sort_unstable_by_key(|(key, _)| *key);
    for chunk in rows.chunks(FTS_ROWS_PER_INSERT) {
        for (index, columns) in INDEXES {
            let names = ["title", "summary", "body"][..columns].join(", ");
            let row = format!("(?{})", ", ?".repeat(columns));
            let values = vec![row; chunk.len()].join(", ");
            let mut query =
                diesel::sql_query(format!("INSERT INTO {index} (rowid, {names}) VALUES {values}"))
                    .into_boxed();
            for (key, folded) in chunk {
                query = query.bind::<BigInt, _>(*key);
                for text in [&folded.title, &folded.summary, &folded.body]
                    .into_iter()
                    .take(columns)
                {
                    query = query.bind::<Text, _>(text.as_str());
                }
            }
            query.execute(c)?;
        }
    }
    Ok(())
}

/// Rows per multi-row INSERT: well under both backends' limits on bound parameters.
const ROWS_PER_INSERT: usize = 500;
/// Rows per INSERT into an FTS5 index: four parameters each, under SQLite's 32,766.
const FTS_ROWS_PER_INSERT: usize = 2000;

/// A new article for [`index_new`].
pub struct NewEntry<'a> {
    pub id: i64,
    /// When it was published, if it is.
    pub published: Option<NaiveDateTime>,
    pub folded: &'a Folded,
    /// [`Folded::terms`] of `folded`.
    pub terms: &'a str,
    pub vectors: Option<&'a Vectors>,
}

/// Indexes new articles, none of them indexed yet, in a few multi-row statements: the
/// importer's way of doing what [`index`] does one article at a time. `known` holds words
/// already in `search_terms`; returns the words this call added there, for the caller to
/// remember once its transaction has committed. On PostgreSQL, an article's [`Vectors`], when
/// given, are stored as its documents; the database computes those not given.
pub fn index_new(
    conn: &mut Db,
    articles: &[NewEntry<'_>],
    known: &std::collections::HashSet<String>,
) -> QueryResult<Vec<String>> {
    let mut added: Vec<String> = Vec::new();
    if matches!(conn, Db::Sqlite(_)) {
        let mut fresh = std::collections::HashSet::new();
        for NewEntry { terms, .. } in articles {
            fresh.extend(terms.split(' ').filter(|w| !w.is_empty() && !known.contains(*w)));
        }
        // Distinct already; sorted, the inserts walk the index in order as `index`'s do.
        let mut fresh: Vec<&str> = fresh.into_iter().collect();
        fresh.sort_unstable();
        remember_words(conn, &fresh)?;
        added = fresh.into_iter().map(str::to_owned).collect();
    }
    let wanted: Vec<i64> = articles.iter().map(|a| key(a.id, a.published)).collect();
    let mut taken = std::collections::HashSet::new();
    for chunk in wanted.chunks(ROWS_PER_INSERT) {
        let held: Vec<i64> = article_search::table
            .filter(article_search::key.eq_any(chunk))
            .select(article_search::key)
            .load(conn)?;
        taken.extend(held);
    }
    let checked: std::collections::HashSet<i64> = wanted.iter().copied().collect();
    let mut keys = Vec::with_capacity(wanted.len());
    for (wanted, NewEntry { id, .. }) in wanted.iter().zip(articles) {
        // Keys of one publication time clash only when ids 512 apart share it: rare, so the
        // keys below are asked for one by one.
        let mut candidate = *wanted;
        while taken.contains(&candidate) {
            candidate -= 1;
            if !checked.contains(&candidate) {
                let free = free_key(conn, *id, candidate)?;
                if free != candidate {
                    taken.extend(free + 1..=candidate);
                }
                candidate = free;
            }
        }
        taken.insert(candidate);
        keys.push(candidate);
    }
    if matches!(conn, Db::Sqlite(_)) {
        let rows: Vec<_> = articles
            .iter()
            .zip(&keys)
            .map(|(a, key)| (article_search::article_id.eq(a.id), article_search::key.eq(*key)))
            .collect();
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            crate::rows::insert_rows!(conn, article_search::table, chunk)?;
        }
        let texts: Vec<(i64, &Folded)> = keys
            .iter()
            .zip(articles)
            .map(|(key, a)| (*key, a.folded))
            .collect();
        write_fts(conn, &texts)?;
        return Ok(added);
    }
    let Db::Pg(pg) = conn else {
        return Ok(added);
    };
    for (chunk, keys) in articles.chunks(ROWS_PER_INSERT).zip(keys.chunks(ROWS_PER_INSERT)) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let first = i * 8 + 1;
                let params: Vec<String> = (first..first + 8).map(|n| format!("${n}")).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let mut query = diesel::sql_query(format!(
            "INSERT INTO article_search (article_id, key, title, summary, body, document, lead, heading) \
             VALUES {}",
            values.join(", ")
        ))
        .into_boxed::<diesel::pg::Pg>();
        for (a, key) in chunk.iter().zip(keys) {
            query = query
                .bind::<BigInt, _>(a.id)
                .bind::<BigInt, _>(*key)
                .bind::<Text, _>(a.folded.title.as_str())
                .bind::<Text, _>(a.folded.summary.as_str())
                .bind::<Text, _>(a.folded.body.as_str())
                .bind::<Nullable<vectors::TsVector>, _>(a.vectors.map(|v| &v.document))
                .bind::<Nullable<vectors::TsVector>, _>(a.vectors.map(|v| &v.lead))
                .bind::<Nullable<vectors::TsVector>, _>(a.vectors.map(|v| &v.heading));
        }
        query.execute(pg)?;
    }
    Ok(added)
}

/// Indexes articles that have no search text yet: those stored before search existed.
/// Returns how many were indexed. Works in batches, each its own transaction; processes
/// starting together take turns on each batch instead of indexing the same articles twice.
pub fn index_missing(conn: &mut Db) -> QueryResult<usize> {
    let mut done = 0;
    loop {
        let indexed = conn.transaction(|conn| {
            crate::db::lock_subject(conn, "search:index-missing")?;
            type Unindexed = (i64, String, Option<NaiveDateTime>, String, Option<String>, String);
            let batch: Vec<Unindexed> = articles::table
                .filter(diesel::dsl::not(diesel::dsl::exists(
                    article_search::table
                        .filter(article_search::article_id.eq(articles::id))
                        .select(article_search::key),
                )))
                .order(articles::id)
                .limit(500)
                .select((
                    articles::id,
                    articles::status,
                    articles::published_at,
                    articles::title,
                    articles::summary,
                    articles::body_html,
                ))
                .load(conn)?;
            for (id, status, published_at, title, summary, body_html) in &batch {
                // An unknown stored state stops indexing with its name, as everywhere else.
                let state = crate::articles::model::ArticleState::stored(status, *id)
                    .map_err(|e| diesel::result::Error::DeserializationError(e.to_string().into()))?;
                let published =
                    published_at.filter(|_| state == crate::articles::model::ArticleState::Published);
                index(conn, *id, published, title, summary.as_deref(), body_html)?;
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

    #[test]
    fn html_becomes_text_with_the_sanitisers_escapes_decoded_once() {
        assert_eq!(
            plain_text("<p>A&amp;lt;B &amp;amp; &lt;i&gt; &quot;x&quot; l&#39;a&nbsp;b &copy; &</p>"),
            " A&lt;B &amp; <i> \"x\" l'a b &copy; & "
        );
        assert_eq!(plain_text("a <b"), "a  ");
        assert_eq!(plain_text("Một <br/>cửa"), "Một  cửa");
    }

    /// FTS5 writes out its buffer as a new segment whenever a row's rowid is not above the
    /// previous row's: rows given newest first must still make one segment per index.
    #[test]
    fn a_batch_written_out_of_key_order_is_one_segment_per_index() {
        use diesel::{Connection, QueryableByName, RunQueryDsl};
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = Db::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        crate::db::migrate::run_pending(&mut conn).unwrap();
        let folded = Folded::of("Thông báo", Some("Tóm tắt"), "<p>Nội dung một cửa</p>");
        // Three rows: FTS5's own merging (`automerge`, 4 segments) leaves three segments as they are.
        let rows = [(30, &folded), (20, &folded), (10, &folded)];
        write_fts(&mut conn, &rows).unwrap();
        let Db::Sqlite(c) = &mut conn else { unreachable!() };
        for index in ["article_fts", "article_lead_fts", "article_title_fts"] {
            let segments: Count =
                diesel::sql_query(format!("SELECT COUNT(DISTINCT segid) AS n FROM {index}_idx"))
                    .get_result(c)
                    .unwrap();
            assert_eq!(segments.n, 1, "{index}");
            let found: Count = diesel::sql_query(format!(
                "SELECT COUNT(*) AS n FROM {index} WHERE {index} MATCH 'thong'"
            ))
            .get_result(c)
            .unwrap();
            assert_eq!(found.n, 3, "{index}");
        }
    }

    #[test]
    fn html_becomes_separated_words() {
        assert_eq!(
            text::fold(&plain_text("<p>Một&nbsp;cửa</p><p>A &amp; B &lt;3</p>")),
            "mot cua a b 3"
        );
    }
}
