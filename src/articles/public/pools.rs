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

use super::super::model::ArticleState;
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

/// Pools by tag. Keys carry the cache generations the pool was read under (see
/// [`crate::cache`]), so any change to public content retires them, in every process, as it
/// retires cached answers; the stale ones are dropped as the budget needs the room.
pub struct TagPools(moka::sync::Cache<(Stamp, i64), Pool>);

impl Default for TagPools {
    fn default() -> Self {
        TagPools(
            moka::sync::Cache::builder()
                .max_capacity(BUDGET)
                .weigher(|_, pool: &Pool| u32::try_from(pool.len() * 16 + 64).unwrap_or(u32::MAX))
                .time_to_live(std::time::Duration::from_secs(600))
                .build(),
        )
    }
}

impl TagPools {
    /// The pool of `tag`, from memory when it was read under the same generations.
    pub fn pool(&self, conn: &mut Db, stamp: &Stamp, tag: i64) -> QueryResult<Pool> {
        let key = (*stamp, tag);
        if let Some(pool) = self.0.get(&key) {
            return Ok(pool);
        }
        let pool = read(conn, tag)?;
        self.0.insert(key, pool.clone());
        Ok(pool)
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
