//! Public lists with a search: walking the search index in key order or by relevance, with
//! the list's other filters checked on each batch of matches.

use std::collections::HashSet;

use diesel::prelude::*;

use super::super::dto::ArticleSummary;
use super::super::model::SummaryRow;
use super::super::names::Lookup;
use super::Sort;
use super::cursor::encode_cursor;
use super::summary::summaries;
use super::totals::{ListTotals, shared_error};
use crate::db::Db;
use crate::db::ids::in_ids;
use crate::db::schema::{article_authors, article_tags, articles};
use crate::envelope::{List, ListMeta};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::media::links::Links;
use crate::search::{Field, Search};

/// The filters of a list that a search checks match by match.
pub(super) struct Narrow {
    pub(super) categories: Option<Vec<i64>>,
    pub(super) tag: Option<i64>,
    pub(super) author: Option<i64>,
}

impl Narrow {
    fn is_empty(&self) -> bool {
        self.categories.is_none() && self.tag.is_none() && self.author.is_none()
    }

    /// Which of `ids` pass. Each check looks the ids up by primary key, whatever the size of
    /// the category, tag or author: asked for "this category and these ids" in one query,
    /// SQLite prefers reading the whole category from its index.
    fn passing(&self, conn: &mut Db, ids: &[i64]) -> QueryResult<Option<HashSet<i64>>> {
        if self.is_empty() {
            return Ok(None);
        }
        let mut keep: HashSet<i64> = ids.iter().copied().collect();
        if let Some(categories) = &self.categories {
            let rows: Vec<(i64, Option<i64>)> = articles::table
                .filter(in_ids(articles::id, ids))
                .select((articles::id, articles::category_id))
                .load(conn)?;
            let inside: HashSet<i64> = rows
                .into_iter()
                .filter(|(_, c)| c.is_some_and(|c| categories.contains(&c)))
                .map(|(id, _)| id)
                .collect();
            keep.retain(|id| inside.contains(id));
        }
        if let Some(tag) = self.tag {
            let tagged: HashSet<i64> = article_tags::table
                .filter(in_ids(article_tags::article_id, ids))
                .filter(article_tags::tag_id.eq(tag))
                .select(article_tags::article_id)
                .load::<i64>(conn)?
                .into_iter()
                .collect();
            keep.retain(|id| tagged.contains(id));
        }
        if let Some(author) = self.author {
            let theirs: HashSet<i64> = article_authors::table
                .filter(in_ids(article_authors::article_id, ids))
                .filter(article_authors::author_id.eq(author))
                .select(article_authors::article_id)
                .load::<i64>(conn)?
                .into_iter()
                .collect();
            keep.retain(|id| theirs.contains(id));
        }
        Ok(Some(keep))
    }
}

/// What a search walks: the matches of `search` with keys in `keys` (published, within the
/// list's dates) that pass the list's other filters.
pub(super) struct SearchScope<'a> {
    pub(super) search: &'a Search,
    pub(super) keys: std::ops::Range<i64>,
    pub(super) narrow: Narrow,
}

impl SearchScope<'_> {
    /// True when its matches are counted from the pairs' index (see
    /// [`Search::count_by_pairs`]): no filter of the list is checked match by match.
    fn counted_by_pairs(&self, conn: &Db) -> bool {
        self.narrow.is_empty() && self.search.counted_by_pairs(conn)
    }

    /// Walks the matches in `field`, newest or oldest first from the key `after`, handing
    /// `visit` the `(key, id)` of each until it returns false or the matches end. Returns
    /// whether they ended.
    fn walk(
        &self,
        conn: &mut Db,
        field: Field,
        newest_first: bool,
        after: Option<i64>,
        mut visit: impl FnMut(i64, i64) -> bool,
    ) -> QueryResult<bool> {
        let mut keys = self.keys.clone();
        match (after, newest_first) {
            (Some(after), true) => keys.end = keys.end.min(after),
            (Some(after), false) => keys.start = keys.start.max(after + 1),
            (None, _) => {}
        }
        // Small first, since a page of a common word needs few; larger while a rare one or a
        // narrow filter keeps it walking.
        let mut batch = 64;
        loop {
            let hits = self.search.walk(conn, field, newest_first, keys.clone(), batch)?;
            let Some(&(last, _)) = hits.last() else {
                return Ok(true);
            };
            let ids: Vec<i64> = hits.iter().map(|&(_, id)| id).collect();
            let passing = self.narrow.passing(conn, &ids)?;
            for &(key, id) in &hits {
                if passing.as_ref().is_none_or(|p| p.contains(&id)) && !visit(key, id) {
                    return Ok(false);
                }
            }
            if (hits.len() as i64) < batch {
                return Ok(true);
            }
            if newest_first {
                keys.end = last;
            } else {
                keys.start = last + 1;
            }
            batch = (batch * 4).min(1024);
        }
    }
}

/// A search list: matches in key order (newest or oldest first), or by relevance (matches in
/// the title, then in the lead, then elsewhere, newest first within each).
#[allow(clippy::too_many_arguments)]
pub(super) fn search_list(
    conn: &mut Db,
    links: &Links,
    kept: Lookup,
    totals: &ListTotals,
    totals_key: String,
    count_limit: i64,
    scope: &SearchScope<'_>,
    sort: Sort,
    page: crate::envelope::Page,
    cursor: Option<(i64, i64)>,
) -> Result<List<ArticleSummary>, ApiError> {
    // Search cursors hold a search key and no id (-1), so a list's cursor is not taken for one.
    let after = match cursor {
        Some((key, -1)) => Some(key),
        Some(_) => return Err(ApiError::bad_request(Code::QueryCursorOtherSearch)),
        None => None,
    };
    let offset = if after.is_some() { 0 } else { page.offset() };
    let mut passed = 0;
    let mut found: Vec<(i64, i64)> = Vec::new();
    let mut take = |key: i64, id: i64| {
        passed += 1;
        if passed > offset {
            found.push((key, id));
        }
        (found.len() as i64) < page.per_page
    };
    // Newest first from the first match, the page's walk is the count's: a total not counted
    // yet is counted on the same walk, which goes on past the page up to the limit. Walked
    // apart, a word with fewer matches than the limit had each of them found twice (on
    // PostgreSQL a phrase of common words that rarely meet reads every document holding
    // them, each time). Concurrent first requests of one search each walk instead of waiting
    // for one count; identical ones share one answer in the response cache.
    // A count the pairs make alone (see `counted_by_walk`) needs no walk past the page.
    let one_walk = sort == Sort::NewestFirst
        && after.is_none()
        && !totals.0.contains_key(&totals_key)
        && !scope.counted_by_pairs(conn);
    let (total, capped) = if one_walk {
        let mut count = 0;
        let mut wanted = true;
        scope.walk(conn, Field::Anywhere, true, None, |key, id| {
            count += 1;
            if wanted {
                wanted = take(key, id);
            }
            wanted || count <= count_limit
        })?;
        let total = if count > count_limit {
            (count_limit, true)
        } else {
            (count, false)
        };
        totals.0.insert(totals_key, total);
        total
    } else {
        if sort == Sort::Relevance {
            let mut seen = HashSet::new();
            for field in [Field::Title, Field::Lead, Field::Anywhere] {
                let ended = scope.walk(conn, field, true, None, |key, id| {
                    !seen.insert(id) || take(key, id)
                })?;
                if !ended {
                    break;
                }
            }
        } else {
            scope.walk(conn, Field::Anywhere, sort != Sort::OldestFirst, after, take)?;
        }
        counted_by_walk(conn, totals, totals_key, count_limit, scope)?
    };

    let ids: Vec<i64> = found.iter().map(|&(_, id)| id).collect();
    let mut rows: Vec<SummaryRow> = articles::table
        .filter(in_ids(articles::id, &ids))
        .select(SummaryRow::as_select())
        .load(conn)?;
    crate::db::ids::in_order_of(&ids, &mut rows, |r| r.id);
    let next_cursor = match (sort, found.last()) {
        (Sort::NewestFirst | Sort::OldestFirst, Some(&(key, _))) if found.len() as i64 == page.per_page => {
            Some(encode_cursor(key, -1))
        }
        _ => None,
    };
    let items = summaries(conn, links, kept, rows)?;
    // A page past the counted ones still says how far it reached.
    let total = if capped {
        total.max(offset + items.len() as i64)
    } else {
        total
    };
    let mut list = page.list(items, total);
    list.meta = ListMeta {
        next_cursor,
        total_capped: Some(capped),
        ..list.meta
    };
    Ok(list)
}

/// A search's total, as `(total, capped)`: its matches within `scope` counted up to
/// `count_limit` (past it, `(count_limit, true)`), from the pairs' index where they decide
/// (see `SearchScope::counted_by_pairs`), or on a walk in key order; or the total kept under
/// `totals_key`, exact or capped. Past the limit, counting would cost more than the page
/// itself: a common word matches most of a portal, and nobody reads page 51.
pub(super) fn counted_by_walk(
    conn: &mut Db,
    totals: &ListTotals,
    totals_key: String,
    count_limit: i64,
    scope: &SearchScope<'_>,
) -> Result<(i64, bool), ApiError> {
    // Requests that miss the same total together wait for one count instead of each counting.
    let counted = totals.0.try_get_with(totals_key, || {
        if scope.counted_by_pairs(conn) {
            let keys = scope.keys.clone();
            if let Some(count) = scope.search.count_by_pairs(conn, keys, count_limit + 1)? {
                return Ok(match count > count_limit {
                    true => (count_limit, true),
                    false => (count, false),
                });
            }
        }
        let mut count = 0;
        let ended = scope.walk(conn, Field::Anywhere, true, None, |_, _| {
            count += 1;
            count <= count_limit
        })?;
        QueryResult::Ok(if ended {
            (count, false)
        } else {
            (count_limit, true)
        })
    });
    // The error is shared with every waiter; each reports it in its own words.
    counted.map_err(|e| ApiError::from(shared_error(&e)))
}
