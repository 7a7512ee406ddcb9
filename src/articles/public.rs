//! The public reading side: published articles only, summaries in lists, one article with
//! its neighbours.

use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{ArticleDetail, ArticleSummary, Neighbour};
use super::model::{ArticleRow, SummaryRow};
use super::published::live_at;
use super::relations::Relations;
use super::render::BodyFormat;
use crate::db::schema::{article_authors, article_tags, articles, authors, tags};
use crate::db::{Db, now};
use crate::envelope::{List, ListMeta};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::search::{Field, Search};
use crate::taxonomy::service as taxonomy;
use std::collections::HashSet;

/// Order of the public article list: newest first (the default), oldest first, most viewed,
/// or, with `q`, title matches before summary matches before the rest, newest first within each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub enum Sort {
    #[serde(rename = "-published_at")]
    NewestFirst,
    #[serde(rename = "published_at")]
    OldestFirst,
    #[serde(rename = "-views")]
    MostViewed,
    /// With `q`: title matches first, then summary matches, then the rest; newest first
    /// within each.
    #[serde(rename = "relevance")]
    Relevance,
}

/// Query of `GET /api/v1/articles`.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// 1-based page number (ignored when `cursor` is given).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    /// Opaque keyset cursor from `meta.next_cursor`, for deep scrolling.
    pub cursor: Option<String>,
    /// Category slug; includes its sub-categories.
    pub category: Option<String>,
    /// Tag slug.
    pub tag: Option<String>,
    /// Author slug.
    pub author: Option<String>,
    /// Published on or after this date (`2020-01-14`) or instant (RFC 3339).
    pub from: Option<String>,
    /// Published on or before this date, or before this instant.
    pub to: Option<String>,
    /// Search: every word must appear in the title, summary or body, the last one as a
    /// prefix; `"quoted words"` must appear as a phrase. Case and Vietnamese diacritics are
    /// ignored (`cai cach` finds `Cải cách`).
    #[param(max_length = 200, example = "cải cách hành chính")]
    pub q: Option<String>,
    /// `-published_at` (default), `published_at`, `-views`, or `relevance` (with `q`).
    #[param(value_type = Option<Sort>)]
    pub sort: Option<Sort>,
}

/// A keyset position: the sort value and id of the last item of a page.
fn encode_cursor(key: i64, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{key}:{id}"))
}

fn decode_cursor(raw: &str) -> Result<(i64, i64), ApiError> {
    let invalid = || ApiError::bad_request(Code::QueryInvalidCursor);
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(text).map_err(|_| invalid())?;
    let (key, id) = text.split_once(':').ok_or_else(invalid)?;
    Ok((
        key.parse().map_err(|_| invalid())?,
        id.parse().map_err(|_| invalid())?,
    ))
}

fn micros(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

fn from_micros(m: i64) -> Result<NaiveDateTime, ApiError> {
    chrono::DateTime::from_timestamp_micros(m)
        .map(|t| t.naive_utc())
        .ok_or_else(|| ApiError::bad_request(Code::QueryInvalidCursor))
}

type Query = articles::BoxedQuery<'static, crate::db::MultiBackend>;

/// Which way a keyset walk over `(published_at, id)` goes.
#[derive(Debug, Clone, Copy)]
enum Toward {
    Older,
    Newer,
}

/// Up to `limit` rows of `base` strictly beyond the position `(at, id)`, nearest first.
///
/// Two range queries, ties on `at` first and then the rows strictly beyond it, instead of
/// one `published_at < at OR (published_at = at AND id < id)`: with the OR, both SQLite and
/// PostgreSQL bound the index scan on one side only and walk every row from the newest
/// down to the position, which makes deep pages cost as much as their depth.
fn beyond(
    conn: &mut Db,
    base: &dyn Fn(NaiveDateTime) -> Query,
    toward: Toward,
    now: NaiveDateTime,
    at: NaiveDateTime,
    id: i64,
    limit: i64,
) -> QueryResult<Vec<SummaryRow>> {
    // `base(upper)` bounds `published_at` from above itself: a second upper bound on the same
    // column would leave the planner to guess which is tighter, and it guesses wrong. Stored
    // times are whole microseconds, so "before `at`" is "at most `at` - 1 µs".
    let (ties, rest) = match toward {
        Toward::Older => (
            base(at)
                .filter(articles::published_at.eq(at))
                .filter(articles::id.lt(id))
                .order(articles::id.desc()),
            base(at - chrono::Duration::microseconds(1))
                .order((articles::published_at.desc(), articles::id.desc())),
        ),
        Toward::Newer => (
            base(now)
                .filter(articles::published_at.eq(at))
                .filter(articles::id.gt(id))
                .order(articles::id.asc()),
            base(now)
                .filter(articles::published_at.gt(at))
                .order((articles::published_at.asc(), articles::id.asc())),
        ),
    };
    let mut rows: Vec<SummaryRow> = ties.limit(limit).select(SummaryRow::as_select()).load(conn)?;
    let missing = limit - rows.len() as i64;
    if missing > 0 {
        rows.extend(
            rest.limit(missing)
                .select(SummaryRow::as_select())
                .load::<SummaryRow>(conn)?,
        );
    }
    Ok(rows)
}

/// Summaries of rows, with bylines, tags and categories fetched in three batch queries.
pub fn summaries(conn: &mut Db, rows: Vec<SummaryRow>) -> Result<Vec<ArticleSummary>, ApiError> {
    let keys: Vec<(i64, Option<i64>)> = rows.iter().map(|r| (r.id, r.category_id)).collect();
    let mut relations = Relations::load(conn, &keys)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (category, tags, authors) = relations.take(r.id, r.category_id);
            ArticleSummary {
                category,
                tags,
                authors,
                published_at: r.published_at.unwrap_or(r.updated_at).and_utc(),
                updated_at: r.updated_at.and_utc(),
                id: r.id,
                slug: r.slug,
                title: r.title,
                summary: r.summary,
                source: r.source,
                cover_image_url: r.cover_image_url,
                view_count: r.view_count,
                comment_count: r.comment_count,
            }
        })
        .collect())
}

/// Totals of public lists by filter. Counting 100,000 index entries costs more than the rest
/// of a list request together, and totals change only when public content does. Keys carry
/// the cache generations the total was counted under (see [`crate::cache`]), so a change
/// made by any process retires them as exactly as it retires cached answers; entries live
/// 10 minutes only to bound memory.
pub struct ListTotals(moka::sync::Cache<String, (i64, bool)>);

impl Default for ListTotals {
    fn default() -> Self {
        ListTotals(
            moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(600))
                .build(),
        )
    }
}

pub fn list(
    conn: &mut Db,
    totals: &ListTotals,
    count_limit: i64,
    stamp: &crate::cache::Stamp,
    query: ArticleQuery,
) -> Result<List<ArticleSummary>, ApiError> {
    let page = crate::envelope::PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let sort = query.sort.unwrap_or(Sort::NewestFirst);
    let from = query
        .from
        .as_deref()
        .map(|f| crate::time::parse_bound(f, "from", false))
        .transpose()?;
    let to = query
        .to
        .as_deref()
        .map(|t| crate::time::parse_bound(t, "to", true))
        .transpose()?;
    let cursor = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let search = query.q.as_deref().map(Search::parse).transpose()?.flatten();
    if sort == Sort::Relevance {
        if search.is_none() {
            return Err(ApiError::bad_request(Code::SortRelevanceNeedsQuery));
        }
        if cursor.is_some() {
            return Err(ApiError::bad_request(Code::SortRelevanceNoCursor));
        }
    }

    let empty = || page.list(Vec::new(), 0);
    if search.as_ref().is_some_and(Search::is_empty) {
        return Ok(empty());
    }
    let backend = conn.backend();
    let category_ids = match &query.category {
        Some(slug) => match taxonomy::category_and_descendants(conn, slug)? {
            Some(ids) => Some(ids),
            None => return Ok(empty()),
        },
        None => None,
    };
    // Slugs are `[a-z0-9-]`: anything else names nothing, and is not sent to the database.
    let unknown = |slug: &Option<String>| slug.as_deref().is_some_and(|s| !crate::text::is_valid_slug(s));
    if unknown(&query.tag) || unknown(&query.author) || unknown(&query.category) {
        return Ok(empty());
    }
    let tag_id: Option<i64> = match &query.tag {
        Some(slug) => match tags::table
            .filter(tags::slug.eq(slug))
            .select(tags::id)
            .first(conn)
            .optional()?
        {
            Some(id) => Some(id),
            None => return Ok(empty()),
        },
        None => None,
    };
    let author_id: Option<i64> = match &query.author {
        Some(slug) => match authors::table
            .filter(authors::slug.eq(slug))
            .select(authors::id)
            .first(conn)
            .optional()?
        {
            Some(id) => Some(id),
            None => return Ok(empty()),
        },
        None => None,
    };

    let at = now();
    let base = |upper: NaiveDateTime| {
        let mut q = articles::table.filter(live_at(upper)).into_boxed();
        if let Some(ids) = &category_ids {
            q = q.filter(articles::category_id.eq_any(ids.clone()));
        }
        if let Some(tag) = tag_id {
            q = q.filter(
                articles::id.eq_any(
                    article_tags::table
                        .filter(article_tags::tag_id.eq(tag))
                        .select(article_tags::article_id),
                ),
            );
        }
        if let Some(author) = author_id {
            q = q.filter(
                articles::id.eq_any(
                    article_authors::table
                        .filter(article_authors::author_id.eq(author))
                        .select(article_authors::article_id),
                ),
            );
        }
        if let Some(from) = from {
            q = q.filter(articles::published_at.ge(from));
        }
        if let Some(to) = to {
            q = q.filter(articles::published_at.lt(to));
        }
        q
    };
    let key = format!("{stamp:?}/{category_ids:?}/{tag_id:?}/{author_id:?}/{from:?}/{to:?}/{search:?}");
    if let Some(search) = &search
        && sort != Sort::MostViewed
    {
        // Published by now and within the dates is a range of search keys; the rest is checked.
        let until = match to {
            Some(to) if to <= at => to,
            _ => at + chrono::Duration::microseconds(1),
        };
        let scope = SearchScope {
            search,
            keys: crate::search::keys_between(from, until),
            narrow: Narrow {
                categories: category_ids.clone(),
                tag: tag_id,
                author: author_id,
            },
        };
        return search_list(conn, totals, key, count_limit, &scope, sort, page, cursor);
    }
    let filtered = |upper: NaiveDateTime| match &search {
        Some(search) => base(upper).filter(search.matches(backend)),
        None => base(upper),
    };
    let total: i64 = match totals.0.get(&key) {
        Some((total, _)) => total,
        None => {
            let total = filtered(at).count().get_result(conn)?;
            totals.0.insert(key, (total, false));
            total
        }
    };
    let rows: Vec<SummaryRow> = match (sort, cursor) {
        (Sort::NewestFirst, Some((key, id))) => beyond(
            conn,
            &filtered,
            Toward::Older,
            at,
            from_micros(key)?,
            id,
            page.per_page,
        )?,
        (Sort::OldestFirst, Some((key, id))) => beyond(
            conn,
            &filtered,
            Toward::Newer,
            at,
            from_micros(key)?,
            id,
            page.per_page,
        )?,
        (Sort::MostViewed, Some((key, id))) => filtered(at)
            .filter(
                articles::view_count
                    .lt(key)
                    .or(articles::view_count.eq(key).and(articles::id.lt(id))),
            )
            .order((articles::view_count.desc(), articles::id.desc()))
            .limit(page.per_page)
            .select(SummaryRow::as_select())
            .load(conn)?,
        (Sort::Relevance, _) => return Err(ApiError::bad_request(Code::SortRelevanceNeedsQuery)),
        (_, None) => {
            let q = filtered(at).offset(page.offset()).limit(page.per_page);
            let q = match sort {
                Sort::OldestFirst => q.order((articles::published_at.asc(), articles::id.asc())),
                Sort::MostViewed => q.order((articles::view_count.desc(), articles::id.desc())),
                Sort::NewestFirst | Sort::Relevance => {
                    q.order((articles::published_at.desc(), articles::id.desc()))
                }
            };
            q.select(SummaryRow::as_select()).load(conn)?
        }
    };
    let next_cursor = match (sort, rows.len() as i64 == page.per_page, rows.last()) {
        (Sort::NewestFirst | Sort::OldestFirst, true, Some(last)) => Some(encode_cursor(
            micros(last.published_at.unwrap_or(last.updated_at)),
            last.id,
        )),
        (Sort::MostViewed, true, Some(last)) => Some(encode_cursor(last.view_count, last.id)),
        _ => None,
    };
    let items = summaries(conn, rows)?;
    let mut list = page.list(items, total);
    list.meta = ListMeta {
        next_cursor,
        ..list.meta
    };
    Ok(list)
}

/// The filters of a list that a search checks match by match.
struct Narrow {
    categories: Option<Vec<i64>>,
    tag: Option<i64>,
    author: Option<i64>,
}

impl Narrow {
    /// Which of `ids` pass. Each check looks the ids up by primary key, whatever the size of
    /// the category, tag or author: asked for "this category and these ids" in one query,
    /// SQLite prefers reading the whole category from its index.
    fn passing(&self, conn: &mut Db, ids: &[i64]) -> QueryResult<Option<HashSet<i64>>> {
        if self.categories.is_none() && self.tag.is_none() && self.author.is_none() {
            return Ok(None);
        }
        let mut keep: HashSet<i64> = ids.iter().copied().collect();
        if let Some(categories) = &self.categories {
            let rows: Vec<(i64, Option<i64>)> = articles::table
                .filter(articles::id.eq_any(ids))
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
                .filter(article_tags::article_id.eq_any(ids))
                .filter(article_tags::tag_id.eq(tag))
                .select(article_tags::article_id)
                .load::<i64>(conn)?
                .into_iter()
                .collect();
            keep.retain(|id| tagged.contains(id));
        }
        if let Some(author) = self.author {
            let theirs: HashSet<i64> = article_authors::table
                .filter(article_authors::article_id.eq_any(ids))
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
struct SearchScope<'a> {
    search: &'a Search,
    keys: std::ops::Range<i64>,
    narrow: Narrow,
}

impl SearchScope<'_> {
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

/// A copy of a database error that several requests share: database errors keep their kind
/// and message (an unreachable database stays a 503), anything else keeps its text.
fn shared_error(e: &diesel::result::Error) -> diesel::result::Error {
    use diesel::result::Error;
    match e {
        Error::DatabaseError(kind, info) => Error::DatabaseError(*kind, Box::new(info.message().to_owned())),
        other => Error::QueryBuilderError(other.to_string().into()),
    }
}

/// A search list: matches in key order (newest or oldest first), or by relevance (matches in
/// the title, then in the lead, then elsewhere, newest first within each).
#[allow(clippy::too_many_arguments)]
fn search_list(
    conn: &mut Db,
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

    // Requests that miss the same total together wait for one count instead of each counting.
    let counted = totals.0.try_get_with(totals_key, || {
        let mut count = 0;
        let ended = scope.walk(conn, Field::Anywhere, true, None, |_, _| {
            count += 1;
            count <= count_limit
        })?;
        // Past the limit, counting would cost more than the page itself: a common word
        // matches most of a portal, and nobody reads page 51.
        QueryResult::Ok(if ended {
            (count, false)
        } else {
            (count_limit, true)
        })
    });
    let (total, capped) = match counted {
        Ok(total) => total,
        // The error is shared with every waiter; each reports it in its own words.
        Err(e) => return Err(ApiError::from(shared_error(&e))),
    };

    let ids: Vec<i64> = found.iter().map(|&(_, id)| id).collect();
    let mut rows: Vec<SummaryRow> = articles::table
        .filter(articles::id.eq_any(&ids))
        .select(SummaryRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|r| ids.iter().position(|&id| id == r.id));
    let next_cursor = match (sort, found.last()) {
        (Sort::NewestFirst | Sort::OldestFirst, Some(&(key, _))) if found.len() as i64 == page.per_page => {
            Some(encode_cursor(key, -1))
        }
        _ => None,
    };
    let items = summaries(conn, rows)?;
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

pub fn detail(conn: &mut Db, slug: &str) -> Result<ArticleDetail, ApiError> {
    if !crate::text::is_valid_slug(slug) {
        return Err(ApiError::not_found(Code::ArticleNotFound));
    }
    let at = now();
    let row: ArticleRow = articles::table
        .filter(articles::slug.eq(slug))
        .filter(live_at(at))
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::ArticleNotFound))?;
    let published = row.published_at.unwrap_or(row.updated_at);
    let category = row.category_id;
    let same_section = move |upper: NaiveDateTime| {
        let q = articles::table.filter(live_at(upper)).into_boxed();
        match category {
            Some(category) => q.filter(articles::category_id.eq(category)),
            None => q,
        }
    };
    let neighbours = |conn: &mut Db, toward: Toward| -> QueryResult<Vec<Neighbour>> {
        Ok(beyond(conn, &same_section, toward, at, published, row.id, 5)?
            .into_iter()
            .map(|r| Neighbour {
                published_at: r.published_at.unwrap_or(r.updated_at).and_utc(),
                slug: r.slug,
                title: r.title,
            })
            .collect())
    };
    let newer = neighbours(conn, Toward::Newer)?;
    let older = neighbours(conn, Toward::Older)?;
    let (body_html, body_format, meta_title, meta_description, comments_enabled) = (
        row.body_html.clone(),
        BodyFormat::parse(&row.body_format),
        row.meta_title.clone(),
        row.meta_description.clone(),
        row.comments_enabled,
    );
    let summary = summaries(conn, vec![SummaryRow::from(&row)])?
        .pop()
        .ok_or_else(|| ApiError::internal("summary of a loaded row missing"))?;
    Ok(ArticleDetail {
        summary,
        body_html,
        body_format,
        meta_title,
        meta_description,
        comments_enabled,
        newer,
        older,
    })
}
