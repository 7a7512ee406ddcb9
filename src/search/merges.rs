//! SQLite's full-text indexes during an import: merged in larger steps instead of as they grow.
//!
//! FTS5 writes each batch's text out as a new segment of the index and, with its default
//! settings, merges segments four at a time whenever a level holds four (`automerge`), so
//! every word of an archive is rewritten once per level as the levels fill: a quarter of an
//! import's writing thread at 20,000 articles. During an import each batch's transaction
//! turns that off before it writes and back on before it commits, so no failure, crash or
//! `kill -9` can leave it off, and other processes writing between two batches merge as
//! usual. FTS5 still merges a level once it holds `crisismerge` segments (16), all of them
//! at once, which keeps the levels few and lets later batches reuse the pages each merge
//! frees. Once the lines are written, [`settle`] merges what the import left.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::Db;
use crate::db::schema::article_search;

/// SQLite's full-text indexes (migration 000009).
const INDEXES: [&str; 3] = ["article_fts", "article_lead_fts", "article_title_fts"];

/// FTS5's default, for an index whose configuration does not name it.
const DEFAULT_AUTOMERGE: i64 = 4;

/// Pages of merged data per `merge` command in [`settle`]: each is a statement of its own.
const MERGE_PAGES: i64 = 2000;

/// Each index's `automerge` as it was before the import, to put back after each batch.
#[derive(Debug, Clone)]
pub struct Merges {
    indexes: Vec<(&'static str, i64)>,
    /// Articles indexed before the import began.
    indexed_before: i64,
}

/// One setting of an FTS5 index.
fn set(conn: &mut diesel::SqliteConnection, index: &str, key: &str, value: i64) -> QueryResult<()> {
    conn.batch_execute(&format!(
        "INSERT INTO {index} ({index}, rank) VALUES ('{key}', {value})"
    ))
}

/// The settings of the indexes, on SQLite; `None` on PostgreSQL, which has nothing to hold.
pub fn before_import(conn: &mut Db) -> QueryResult<Option<Merges>> {
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = BigInt)]
        v: i64,
    }
    let Db::Sqlite(c) = conn else {
        return Ok(None);
    };
    let indexed_before = article_search::table.count().get_result(c)?;
    let mut indexes = Vec::with_capacity(INDEXES.len());
    for index in INDEXES {
        let set: Option<Setting> = diesel::sql_query(format!(
            "SELECT CAST(v AS INTEGER) AS v FROM {index}_config WHERE k = 'automerge'"
        ))
        .get_result(c)
        .optional()?;
        indexes.push((index, set.map_or(DEFAULT_AUTOMERGE, |s| s.v)));
    }
    Ok(Some(Merges {
        indexes,
        indexed_before,
    }))
}

impl Merges {
    /// Within a batch's transaction, before it writes: no merging until a level is full.
    pub fn hold(&self, conn: &mut Db) -> QueryResult<()> {
        let Db::Sqlite(c) = conn else {
            return Ok(());
        };
        for (index, _) in &self.indexes {
            set(c, index, "automerge", 0)?;
        }
        Ok(())
    }

    /// Within a batch's transaction, after it wrote: the settings as they were. FTS5 writes
    /// out what it buffered before a setting changes, so the batch's segment is written
    /// while merging is still held.
    pub fn release(&self, conn: &mut Db) -> QueryResult<()> {
        let Db::Sqlite(c) = conn else {
            return Ok(());
        };
        for (index, automerge) in &self.indexes {
            set(c, index, "automerge", *automerge)?;
        }
        Ok(())
    }
}

/// After an import of `imported` articles: an import at least as large as what was indexed
/// before is merged into one segment per index, as `optimize` would (every segment rewritten
/// once: the least work, and the fastest searches after); a smaller one is merged as FTS5's
/// own settings would have, level by level, leaving the older, larger segments alone. Either
/// goes [`MERGE_PAGES`] at a time, each its own transaction, so the write-ahead log stays
/// small and the server's own writes get their turns.
pub fn settle(conn: &mut Db, merges: &Merges, imported: usize) -> QueryResult<()> {
    #[derive(QueryableByName)]
    struct Changes {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let Db::Sqlite(c) = conn else {
        return Ok(());
    };
    if imported == 0 {
        return Ok(());
    }
    // A negative amount merges every segment of the index together, a positive one only
    // levels of `usermerge` (4) segments or more.
    let whole = i64::try_from(imported).unwrap_or(i64::MAX) >= merges.indexed_before;
    let pages = if whole { -MERGE_PAGES } else { MERGE_PAGES };
    for (index, _) in &merges.indexes {
        // A `merge` that found nothing to do changes fewer than two rows (FTS5's documentation).
        loop {
            let before = diesel::sql_query("SELECT total_changes() AS n").get_result::<Changes>(c)?;
            set(c, index, "merge", pages)?;
            let after = diesel::sql_query("SELECT total_changes() AS n").get_result::<Changes>(c)?;
            if after.n - before.n < 2 {
                break;
            }
        }
    }
    Ok(())
}
