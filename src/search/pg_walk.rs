//! PostgreSQL's walk of a search's matches in key order (newest or oldest first): a window
//! of rows tested in order, then the rest from GIN, or a phrase's candidates from the index of
//! its pairs of adjacent words (see [`super::pairs`]).

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Text};

use super::pairs::{Counted, pairs_held, phrase_rows};
use super::query::Hit;

/// Runs `read` in a transaction of its own with sequential and plain index scans off: what
/// it asks of `article_search` by `@@` can then only come from GIN. The settings end with
/// the transaction, so none must be open (inside one, they would outlast `read`).
pub(super) fn from_gin_alone<T>(
    conn: &mut diesel::PgConnection,
    read: impl FnOnce(&mut diesel::PgConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    conn.transaction(|conn| {
        diesel::sql_query(
            "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)",
        )
        .execute(conn)?;
        read(conn)
    })
}

/// Rows of `article_search` that [`pg_walk`] tests in key order before it turns to GIN, per
/// match wanted. Testing a row reads its document (some 14 µs a row on 100,000 articles);
/// GIN hands over a match for about 1.2 µs, but all of them at once, to be sorted.
const WINDOW_PER_MATCH: i64 = 16;
/// The bounds of that window.
const WINDOW: std::ops::RangeInclusive<i64> = 1024..=16384;

/// The matches a phrase's candidates give at least, however few were asked for. GIN hands
/// the candidates over at once, in no order, so each is tested whatever the limit: a walk
/// that goes on (to count a search's matches, up to 1,000) then takes them from the same
/// statement instead of testing the rest again in each of its next batches. The first
/// request of `"va cac co"` (509 matches of 8,385 rows holding its pairs, 100,000 articles)
/// walked three batches, each with a window and the pairs: 0.47–0.59 s; now one, 0.11 s.
const BY_PAIRS_AT_LEAST: i64 = 1024;

/// PostgreSQL's walk: up to `limit` `(key, article_id)` pairs matching `tsquery` in `column`,
/// keys in `keys`, in key order; `phrase` when the query holds one, and `pairs` when the
/// pairs of its words are indexed for `column` (see [`super::Search::pairs`]), with whether they
/// decide ([`super::Search::pairs_decide`]). Taken by the pairs, more than `limit` (see
/// [`BY_PAIRS_AT_LEAST`]).
///
/// Left to itself, the planner chooses between walking the keys and testing each row, and
/// collecting the matches from GIN, by its estimate of how many rows match. For a word
/// ending in a prefix, or words that rarely meet, it guessed hundreds where there were
/// none, and walked every row: two seconds for one search of 100,000 articles. So the
/// choice is made from what a first window of rows showed instead: a word that fills the
/// page within the window is walked no further, and the rest of a rarer one comes from GIN,
/// whose cost grows with the matches, not with the archive.
#[allow(clippy::too_many_arguments)]
pub(super) fn pg_walk(
    conn: &mut diesel::PgConnection,
    column: &str,
    tsquery: &str,
    phrase: bool,
    pairs: Option<(&str, bool)>,
    newest_first: bool,
    keys: std::ops::Range<i64>,
    limit: i64,
) -> QueryResult<Vec<(i64, i64)>> {
    let order = if newest_first { "DESC" } else { "ASC" };
    let window = (limit * WINDOW_PER_MATCH).clamp(*WINDOW.start(), *WINDOW.end());
    // A phrase whose pairs fewer rows hold than the smallest window would test is tested on
    // those rows alone: "zalo pci" holds its pairs in 87 articles of 100,000, each tested
    // once. The count stops at that window, since each batch of a walk counts again: for a
    // common phrase ("mot cua", in one article of ten) it costs 3–4 ms a batch.
    let few = *WINDOW.start();
    if let Some(pairs) = pairs
        && candidates(conn, pairs.0, &keys, few)? < few
    {
        return by_pairs(conn, tsquery, pairs, order, &keys, limit);
    }
    // The window's matches, and the key of its last row (article id -1) when the range holds
    // that many rows: the walk stops there.
    let walked: Vec<Hit> = diesel::sql_query(format!(
        "(SELECT key, article_id FROM (SELECT key, article_id, {column} AS tested FROM article_search \
           WHERE key >= $2 AND key < $3 ORDER BY key {order} LIMIT $5) AS window_rows \
         WHERE tested @@ to_tsquery('simple', $1) ORDER BY key {order} LIMIT $4) \
         UNION ALL \
         (SELECT key, -1 FROM article_search WHERE key >= $2 AND key < $3 ORDER BY key {order} OFFSET $6 LIMIT 1)"
    ))
    .bind::<Text, _>(tsquery)
    .bind::<BigInt, _>(keys.start)
    .bind::<BigInt, _>(keys.end)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(window)
    .bind::<BigInt, _>(window - 1)
    .load(conn)?;
    let mut edge = None;
    let mut hits = Vec::with_capacity(walked.len());
    for hit in walked {
        match hit.article_id {
            -1 => edge = Some(hit.key),
            id => hits.push((hit.key, id)),
        }
    }
    let Some(edge) = edge.filter(|_| (hits.len() as i64) < limit) else {
        return Ok(hits);
    };
    let rest = if newest_first {
        keys.start..edge
    } else {
        edge + 1..keys.end
    };
    if let Some(pairs) = pairs {
        // The rows a walk on by key would still test, at the rate the window found matches.
        let found = hits.len() as i64;
        let by_key = (found > 0).then(|| (limit - found).saturating_mul(window) / found);
        let fewer_by_pairs = match by_key {
            None => true,
            Some(by_key) => candidates(conn, pairs.0, &rest, by_key)? < by_key,
        };
        if fewer_by_pairs {
            hits.extend(by_pairs(conn, tsquery, pairs, order, &rest, limit - found)?);
            return Ok(hits);
        }
    }
    // GIN knows words, not their order: it hands over every row holding a phrase's words,
    // each then read and tested as the walk would. A phrase the window found is walked on, or
    // collected, as the planner estimates; anything else comes from GIN alone, and `key + 0`
    // keeps the key index out of its bitmap too.
    let by_planner = phrase && !hits.is_empty();
    let key = if by_planner { "key" } else { "key + 0" };
    let statement = diesel::sql_query(format!(
        "SELECT key, article_id FROM article_search \
         WHERE {column} @@ to_tsquery('simple', $1) AND {key} >= $2 AND {key} < $3 \
         ORDER BY {key} {order} LIMIT $4"
    ))
    .bind::<Text, _>(tsquery)
    .bind::<BigInt, _>(rest.start)
    .bind::<BigInt, _>(rest.end)
    .bind::<BigInt, _>(limit - hits.len() as i64);
    let found: Vec<Hit> = match by_planner {
        true => statement.load(conn)?,
        false => from_gin_alone(conn, |conn| statement.load(conn))?,
    };
    hits.extend(found.into_iter().map(|h| (h.key, h.article_id)));
    Ok(hits)
}

/// The `(key, article_id)` pairs in key order (`order`), keys in `keys`, matching a phrase's
/// `tsquery` in the whole text, up to `limit` or [`BY_PAIRS_AT_LEAST`], whichever is more:
/// the documents of the rows holding `pairs` (unless the pairs decide, `exact`) or not paired
/// yet are tested, no other.
fn by_pairs(
    conn: &mut diesel::PgConnection,
    tsquery: &str,
    (pairs, exact): (&str, bool),
    order: &str,
    keys: &std::ops::Range<i64>,
    limit: i64,
) -> QueryResult<Vec<(i64, i64)>> {
    let found: Vec<Hit> = from_gin_alone(conn, |conn| {
        phrase_rows_within(
            |rows| format!("{rows} ORDER BY key {order} LIMIT $4"),
            "key, article_id",
            tsquery,
            (pairs, exact),
            keys,
            limit.max(BY_PAIRS_AT_LEAST),
        )
        .load(conn)
    })?;
    Ok(found.into_iter().map(|h| (h.key, h.article_id)).collect())
}

/// How many rows with keys in `keys` match a query its pairs decide (`pairs`, see
/// [`super::Search::count_by_pairs`]), counted up to `limit`: the pairs' index alone for the
/// paired rows, the document of a row not paired yet.
pub(super) fn count_by_pairs(
    conn: &mut diesel::PgConnection,
    tsquery: &str,
    pairs: &str,
    keys: &std::ops::Range<i64>,
    limit: i64,
) -> QueryResult<i64> {
    from_gin_alone(conn, |conn| {
        phrase_rows_within(
            |rows| format!("SELECT count(*) AS n FROM ({rows} LIMIT $4) AS matches"),
            "1",
            tsquery,
            (pairs, true),
            keys,
            limit,
        )
        .get_result::<Counted>(conn)
        .map(|c| c.n)
    })
}

/// A statement over a phrase's rows with keys in `keys` ([`phrase_rows`] of `select`, with
/// `pairs` and whether they decide), written into the text `wrap` makes of them, whose `$4`
/// is `limit`: the binds in the order of the placeholders, for every such statement.
fn phrase_rows_within<'a>(
    wrap: impl FnOnce(String) -> String,
    select: &str,
    tsquery: &'a str,
    (pairs, exact): (&'a str, bool),
    keys: &std::ops::Range<i64>,
    limit: i64,
) -> BoxedSqlQuery<'a, Pg, SqlQuery> {
    diesel::sql_query(wrap(phrase_rows(select, "$5", "$1", Some(("$2", "$3")), exact)))
        .into_boxed()
        .bind::<Text, _>(tsquery)
        .bind::<BigInt, _>(keys.start)
        .bind::<BigInt, _>(keys.end)
        .bind::<BigInt, _>(limit)
        .bind::<Text, _>(pairs)
}

/// How many rows with keys in `keys` hold `pairs` or are not paired yet, counted up to
/// `limit`: at most the rows a phrase's walk would test when it takes its candidates from the
/// pairs' index ([`super::pairs::phrase_rows`]). Only indexes and the rows' visibility are read, no document.
fn candidates(
    conn: &mut diesel::PgConnection,
    pairs: &str,
    keys: &std::ops::Range<i64>,
    limit: i64,
) -> QueryResult<i64> {
    from_gin_alone(conn, |conn| {
        diesel::sql_query(format!(
            "SELECT count(*) AS n FROM (\
               SELECT 1 FROM article_search WHERE paired \
                 AND {} AND key + 0 >= $2 AND key + 0 < $3 \
               UNION ALL \
               SELECT 1 FROM article_search WHERE NOT paired AND key + 0 >= $2 AND key + 0 < $3 \
             LIMIT $4) AS candidates",
            pairs_held("$1")
        ))
        .bind::<Text, _>(pairs)
        .bind::<BigInt, _>(keys.start)
        .bind::<BigInt, _>(keys.end)
        .bind::<BigInt, _>(limit)
        .get_result::<Counted>(conn)
        .map(|c| c.n)
    })
}
