//! The pools related articles are chosen from: the most recent published articles of each
//! tag, kept in memory between pages.
//!
//! Every article sharing a tag reads the same pool, so on a site with a few hundred tags a
//! pool is read from the database once per content change, not once per page: reading it
//! costs an index range of [`POOL`] entries and as many rows, more than the rest of an
//! uncached page.

use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::model::{ArticleState, LinkRow};
use crate::cache::Stamp;
use crate::db::Db;
use crate::db::schema::{article_tags, articles};

/// Published articles per tag that related articles are chosen from, the most recent first.
pub const POOL: i64 = 500;

/// Bytes the kept pools may take: at 16 bytes an article, the full pools of about a thousand
/// tags. A site with more tags reads the rarer ones' pools again when their pages miss.
const BUDGET: u64 = 8 << 20;

/// `(article id, published at)` of a tag's [`POOL`] most recent published articles, by id,
/// greatest first (ranking merges pools on that order). Some may not be live yet (published
/// with a time to come); the caller checks.
pub type Pool = Arc<[(i64, NaiveDateTime)]>;

/// Bytes the kept rows of related articles may take: some twenty thousand of them.
const ROWS_BUDGET: u64 = 4 << 20;

/// How long a pool or a row is kept at most, changes or not.
const KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(600);

/// Pools by tag, and the rows of the articles chosen from them. Keys carry the cache
/// generations they were read under (see [`crate::cache`]), so any change to public content
/// retires them, in every process, as it retires cached answers; the stale ones are dropped
/// as the budgets need the room.
pub struct TagPools {
    pools: moka::sync::Cache<(Stamp, i64), Pool>,
    /// Related articles come from the heads of the pools, so the same few hundred rows are
    /// shown on most pages: read from memory, a page is spared a lookup per related article
    /// in the whole table.
    rows: moka::sync::Cache<(Stamp, i64), Arc<LinkRow>>,
}

impl Default for TagPools {
    fn default() -> Self {
        TagPools {
            pools: moka::sync::Cache::builder()
                .max_capacity(BUDGET)
                .weigher(|_, pool: &Pool| u32::try_from(pool.len() * 16 + 64).unwrap_or(u32::MAX))
                .time_to_live(KEPT_FOR)
                .build(),
            rows: moka::sync::Cache::builder()
                .max_capacity(ROWS_BUDGET)
                .weigher(|_, row: &Arc<LinkRow>| {
                    u32::try_from(row.slug.len() + row.title.len() + 128).unwrap_or(u32::MAX)
                })
                .time_to_live(KEPT_FOR)
                .build(),
        }
    }
}

impl TagPools {
    /// The pool of `tag`, from memory when it was read under the same generations.
    pub fn pool(&self, conn: &mut Db, stamp: &Stamp, tag: i64) -> QueryResult<Pool> {
        let key = (*stamp, tag);
        if let Some(pool) = self.pools.get(&key) {
            return Ok(pool);
        }
        let pool = read(conn, tag)?;
        self.pools.insert(key, pool.clone());
        Ok(pool)
    }

    /// The rows of those of `ids` that `read` finds (the live ones), from memory for those
    /// read under the same generations: a row live then is live until a change retires the
    /// generation, as publication times only fall behind the clock.
    pub fn rows(
        &self,
        conn: &mut Db,
        stamp: &Stamp,
        ids: &[i64],
        read: impl FnOnce(&mut Db, &[i64]) -> QueryResult<Vec<LinkRow>>,
    ) -> QueryResult<Vec<LinkRow>> {
        let mut rows = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for &id in ids {
            match self.rows.get(&(*stamp, id)) {
                Some(row) => rows.push(LinkRow::clone(&row)),
                None => missing.push(id),
            }
        }
        if !missing.is_empty() {
            for row in read(conn, &missing)? {
                self.rows.insert((*stamp, row.id), Arc::new(row.clone()));
                rows.push(row);
            }
        }
        Ok(rows)
    }
}

/// The pool of `tag` as the database has it now.
pub fn read(conn: &mut Db, tag: i64) -> QueryResult<Pool> {
    let rows: Vec<(i64, Option<NaiveDateTime>)> = crate::db::direct::load!(
        conn,
        article_tags::table
            .inner_join(articles::table)
            .filter(article_tags::tag_id.eq(tag))
            .filter(articles::status.eq(ArticleState::Published.as_str()))
            .order(article_tags::article_id.desc())
            .limit(POOL)
            .select((article_tags::article_id, articles::published_at)),
    )?;
    // A published article always has its time; one without could never be live.
    Ok(rows.into_iter().filter_map(|(id, at)| Some((id, at?))).collect())
}
