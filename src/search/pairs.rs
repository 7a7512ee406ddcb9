//! PostgreSQL's index of adjacent words (migration 000017), filled in the background.
//!
//! GIN knows which words a document holds, not where: for a phrase, it hands over every
//! article holding all its words, and each document is read to test their positions. For
//! common words that rarely meet, that is most of the archive (`"zalo pci"`: 38,204 documents
//! read for 87 matches of 100,000). `search_pairs(document)` lists the words next to each
//! other in a document, and its GIN index hands over the articles holding each pair of a
//! phrase's adjacent words: the phrase's matches, give or take a longer phrase's.
//!
//! Indexing the pairs costs 2–5 ms an article, more than the rest of an import together, so
//! only rows with `paired` set are in that index. A bulk import writes its rows unpaired (as
//! the migration leaves the rows already there), and [`pair_some`] sets the flag on them in
//! batches, newest first; a search tests the unpaired rows' documents as before (see
//! [`phrase_rows`]). A row the server writes one at a time is paired by the trigger that
//! computes its documents, and an edit of a paired row's text indexes its new pairs in the
//! edit's own statement.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::Db;

/// Rows [`pair_some`] indexes per statement: 0.2–0.5 s of the database's time, which an editor
/// saving one of them waits for at most.
pub const BATCH: i64 = 100;

/// Indexes the pairs of up to `batch` unpaired rows of `article_search`, newest first, and
/// returns how many. Always 0 on SQLite, whose FTS5 index keeps word positions itself.
///
/// Rows another process is pairing are skipped rather than waited for, so servers sharing a
/// database share the work.
pub fn pair_some(conn: &mut Db, batch: i64) -> QueryResult<usize> {
    let Db::Pg(c) = conn else {
        return Ok(0);
    };
    diesel::sql_query(
        "UPDATE article_search SET paired = true WHERE article_id IN \
         (SELECT article_id FROM article_search WHERE NOT paired ORDER BY key DESC LIMIT $1 \
          FOR UPDATE SKIP LOCKED)",
    )
    .bind::<BigInt, _>(batch)
    .execute(c)
}

/// How many rows of `article_search` are not paired yet (0 on SQLite).
pub fn unpaired(conn: &mut Db) -> QueryResult<i64> {
    let Db::Pg(c) = conn else {
        return Ok(0);
    };
    diesel::sql_query("SELECT count(*) AS n FROM article_search WHERE NOT paired")
        .get_result::<Counted>(c)
        .map(|c| c.n)
}

/// A count of rows, as `n`.
#[derive(QueryableByName)]
pub(super) struct Counted {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// The condition that a row's pairs hold those given as a comma-separated list at
/// `placeholder`, in the collation of the pairs' index (migration 000017): in any other,
/// PostgreSQL would not use the index.
pub(super) fn pairs_held(placeholder: &str) -> String {
    format!("search_pairs(document) COLLATE \"C\" @> string_to_array({placeholder}, ',')")
}

/// Pairs of adjacent words are indexed when shorter than this, in bytes (migration 000017).
pub(super) const PAIR_BYTES: usize = 200;

/// The rows of `article_search` matching a phrase's `tsquery` (placeholder `query`) by its
/// `pairs` (see [`super::Search::pairs`]), each with the columns `select`, keys within the
/// placeholders `keys` (low, high) if given: the rows holding the pairs, and those not paired
/// yet, their documents tested.
///
/// Two arms, so that neither tests a row with `search_pairs`: in one condition with GIN on
/// `document`, every candidate was tested again by the whole condition, `search_pairs`
/// included (some 0.6 ms a row). Wrapped in `coalesce`, the first arm's test is no index
/// condition; the second arm has GIN on `document` for the words, as before pairs.
///
/// The keys bound a paired row's test from within (`CASE`): as separate conditions, PostgreSQL
/// applied the cheaper first, and counted reading a document cheaper than `key + 0 >= …`. It
/// then read the document of every row holding the pairs, in the keys or not: 85 ms where 30
/// would do for the newest tenth of the rows holding the pairs of "va cac co". `key + 0` keeps
/// the keys' index out of either arm's bitmap, as in [`super::pg_walk`].
///
/// `exact` when the pairs decide the paired rows ([`super::Search::pairs_decide`]): their
/// documents are then not tested, and `query` appears once.
pub(super) fn phrase_rows(
    select: &str,
    pairs: &str,
    query: &str,
    keys: Option<(&str, &str)>,
    exact: bool,
) -> String {
    let within = keys.map(|(low, high)| format!("key + 0 >= {low} AND key + 0 < {high}"));
    let tsquery = format!("to_tsquery('simple', {query})");
    let paired = match (exact, &within) {
        (true, None) => String::new(),
        (true, Some(within)) => format!(" AND {within}"),
        (false, None) => format!(" AND coalesce(document, ''::tsvector) @@ {tsquery}"),
        (false, Some(within)) => {
            format!(" AND CASE WHEN {within} THEN coalesce(document, ''::tsvector) @@ {tsquery} END")
        }
    };
    let unpaired = match &within {
        Some(within) => format!("document @@ {tsquery} AND {within}"),
        None => format!("document @@ {tsquery}"),
    };
    let held = pairs_held(pairs);
    format!(
        "SELECT {select} FROM article_search WHERE paired AND {held}{paired} \
         UNION ALL \
         SELECT {select} FROM article_search WHERE NOT paired AND {unpaired}"
    )
}
