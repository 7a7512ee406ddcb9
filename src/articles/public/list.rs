//! `GET /api/v1/articles`: its query, and the list of published summaries it answers with.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;

use super::super::dto::ArticleSummary;
use super::super::model::{ArticleState, ListedRow, SummaryRow};
use super::super::names::Names;
use super::super::published::{dated_by, live_at};
use super::super::relations::{Named, bylined, named_filters, tagged};
use super::cursor::{decode_cursor, encode_cursor, from_micros, micros};
use super::keyset::{Toward, beyond};
use super::search::{Narrow, SearchScope, counted_by_walk, search_list};
use super::summary::listed as listed_summaries;
use super::totals::ListTotals;
use crate::db::ids::in_ids;
use crate::db::schema::articles;
use crate::db::text_limit::{FixedLimit, TextLimit};
use crate::db::{Backend, Db, MultiBackend, now};
use crate::envelope::{DEFAULT_PER_PAGE, List, ListMeta};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::media::links::Links;
use crate::search::Search;

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
    /// Category slug; includes its sub-categories. An unknown one is a 404.
    pub category: Option<String>,
    /// Tag slug. An unknown one is a 404.
    pub tag: Option<String>,
    /// Author slug. An unknown one is a 404.
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
    /// `true`: only featured articles ("Tin nổi bật"), by `featured_rank` (lower first) then
    /// newest, unless `sort` is given; pages by number, without cursors. `false`: only the
    /// others.
    pub featured: Option<bool>,
}

/// Where the rows of a list come from.
enum Plan<'s> {
    /// The search index, walked in key order or by relevance.
    Walk(&'s Search),
    /// A query ordered on a column, searched or not; its cursors follow that column.
    Column(ByColumn),
}

#[derive(Debug, Clone, Copy)]
enum ByColumn {
    Newest,
    Oldest,
    MostViewed,
    /// Featured rank, then newest.
    Rank,
}

pub fn list(
    conn: &mut Db,
    links: &Links,
    names: &Names,
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
    let by_rank = query.featured == Some(true) && query.sort.is_none();
    if by_rank && query.cursor.is_some() {
        return Err(ApiError::bad_request(Code::FeaturedNoCursor));
    }
    let cursor = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let search = query.q.as_deref().map(Search::parse).transpose()?.flatten();
    let plan = match (sort, &search) {
        (Sort::Relevance, None) => return Err(ApiError::bad_request(Code::SortRelevanceNeedsQuery)),
        (Sort::Relevance, Some(_)) if cursor.is_some() => {
            return Err(ApiError::bad_request(Code::SortRelevanceNoCursor));
        }
        _ if by_rank => Plan::Column(ByColumn::Rank),
        // The search index knows nothing of featuring: a featured search filters the
        // column-ordered query.
        (Sort::NewestFirst, Some(_)) if query.featured.is_some() => Plan::Column(ByColumn::Newest),
        (Sort::OldestFirst, Some(_)) if query.featured.is_some() => Plan::Column(ByColumn::Oldest),
        // The search index keeps matches in publication order, not in order of views: a
        // search sorted by views filters the column-ordered query instead.
        (Sort::MostViewed, _) => Plan::Column(ByColumn::MostViewed),
        (_, Some(search)) => Plan::Walk(search),
        (Sort::NewestFirst, None) => Plan::Column(ByColumn::Newest),
        (Sort::OldestFirst, None) => Plan::Column(ByColumn::Oldest),
    };

    // The filters are looked up first: an unknown slug is a 404 whatever else is asked.
    let Named {
        categories: category_ids,
        tag: tag_id,
        author: author_id,
    } = named_filters(
        conn,
        query.category.as_deref(),
        query.tag.as_deref(),
        query.author.as_deref(),
    )?;
    if search.as_ref().is_some_and(Search::is_empty) {
        return Ok(page.list(Vec::new(), 0));
    }
    // A tag's or an author's list reads all their articles' ids, and a category with
    // sub-categories walks the live rows until a page of them turns up: on a large archive,
    // milliseconds that must not hold an HTTP worker (see `Database::read_quick`).
    if tag_id.is_some() || author_id.is_some() || category_ids.as_ref().is_some_and(|ids| ids.len() > 1) {
        crate::db::quick::may_block()?;
    }
    let backend = conn.backend();

    let at = now();
    // Without statistics SQLite cannot tell how few articles are featured. The featured box
    // of a front page (`featured=true`, by rank) walked every live row by time and sorted
    // them, 0.14 s at 100,000 articles, and its count took as long; counting the others read
    // every row to test the flag. With no narrower filter, the featured rows come from their
    // index with the time bound out of its reach (see `dated_by`), and both counts from that
    // index, which holds every column they test. The others' rows already come from the
    // index of the list's order.
    // SQLite with no category, tag or author, whose own indexes would serve better.
    let sqlite_unnarrowed =
        backend == Backend::Sqlite && category_ids.is_none() && tag_id.is_none() && author_id.is_none();
    // Searched, the same rows and counts are filtered by the matches as well: reading every
    // live row to test the flag cost `q=noi&sort=-views&featured=true` 0.5 s a statement.
    let featured_index = sqlite_unnarrowed && query.featured.is_some();
    let base = |upper: Option<NaiveDateTime>| {
        let mut q = match upper {
            Some(upper) => articles::table.filter(live_at(upper)).into_boxed(),
            None => articles::table
                .filter(articles::status.eq(ArticleState::Published.as_str()))
                .into_boxed(),
        };
        if let Some(ids) = &category_ids {
            // One category (no sub-categories) is an equality (see `in_ids`), which SQLite
            // walks in its own index in date order; a list of several it cannot size, and
            // walks the live rows instead.
            q = q.filter(in_ids(articles::category_id, ids));
        }
        if let Some(tag) = tag_id {
            q = q.filter(tagged(tag));
        }
        if let Some(author) = author_id {
            q = q.filter(bylined(author));
        }
        if let Some(from) = from {
            q = q.filter(articles::published_at.ge(from));
        }
        if let Some(to) = to {
            q = q.filter(articles::published_at.lt(to));
        }
        if let Some(featured) = query.featured {
            q = q.filter(articles::featured.eq(featured));
        }
        q
    };
    let key = format!(
        "{stamp:?}/{category_ids:?}/{tag_id:?}/{author_id:?}/{from:?}/{to:?}/{search:?}/{:?}",
        query.featured
    );
    // Published by now and within the dates is a range of search keys; the rest is checked.
    let until = match to {
        Some(to) if to <= at => to,
        _ => at + chrono::Duration::microseconds(1),
    };
    let scope_of = |search| SearchScope {
        search,
        keys: crate::search::keys_between(from, until),
        narrow: Narrow {
            categories: category_ids.clone(),
            tag: tag_id,
            author: author_id,
        },
    };
    let order = match plan {
        Plan::Column(order) => order,
        Plan::Walk(search) => {
            let scope = scope_of(search);
            return search_list(
                conn,
                links,
                Some((names, stamp)),
                totals,
                key,
                count_limit,
                &scope,
                sort,
                page,
                cursor,
            );
        }
    };
    // A rare word's matches, listed (see `Search::few_matches`).
    let few = match (&plan, &search) {
        (Plan::Column(_), Some(search)) => search.few_matches(conn)?,
        _ => None,
    };
    let rows_base = |upper: Option<NaiveDateTime>| match upper {
        Some(upper) if featured_index && query.featured == Some(true) => base(None).filter(dated_by(upper)),
        upper => base(upper),
    };
    let searched_in = |rows: articles::BoxedQuery<'static, MultiBackend>| match (&search, &few) {
        (Some(_), Some(ids)) => rows.filter(in_ids(articles::id, ids)),
        (Some(search), None) => rows.filter(search.matches(backend)),
        (None, _) => rows,
    };
    let filtered = |upper: Option<NaiveDateTime>| searched_in(rows_base(upper));
    let counted = || match featured_index {
        true => searched_in(base(None).filter(dated_by(at))),
        false => filtered(Some(at)),
    };
    // A search by views counts a common word's matches as the other orders do, on a walk in
    // key order up to the limit: counted exactly, a word most articles hold took 0.13–0.26 s
    // at 100,000 articles on PostgreSQL (some 1.4 µs a match), growing with the archive. Its
    // few matches listed, or featured ones (which the search index knows nothing of), are
    // counted exactly. Outside `matches_from_index`, whose settings the walk must not keep.
    let walked = match (&search, &few, order, query.featured) {
        (Some(search), None, ByColumn::MostViewed, None) => Some(counted_by_walk(
            conn,
            totals,
            key.clone(),
            count_limit,
            &scope_of(search),
        )?),
        _ => None,
    };
    // A search not listed by its ids filters by every match (see `search::matches_from_index`).
    let searched = search.is_some() && few.is_none();
    let (total, rows) = crate::search::matches_from_index(conn, searched, |conn| {
        let total: i64 = match (walked, totals.0.get(&key)) {
            (Some((total, _)), _) | (None, Some((total, false))) => total,
            // A search in key order may have counted the same matches up to its limit (see
            // `search_list`): this list's totals are exact, and the exact count replaces it.
            _ => {
                // Every live row of the archive is counted: not on an HTTP worker.
                crate::db::quick::may_block()?;
                let total =
                    crate::search::count_from_gin(conn, searched, |conn| counted().count().get_result(conn))?;
                totals.0.insert(key, (total, false));
                total
            }
        };
        // Rows with their link ids where the statement read them (see `LinkIdsOf`).
        let plain = |rows: Vec<SummaryRow>| -> Vec<(SummaryRow, Option<String>)> {
            rows.into_iter().map(|r| (r, None)).collect()
        };
        let listed = |rows: Vec<ListedRow>| -> Vec<(SummaryRow, Option<String>)> {
            rows.into_iter().map(|r| (r.summary, r.link_ids)).collect()
        };
        let first_page = u8::try_from(page.per_page).ok().filter(|_| page.offset() == 0);
        let rows: Vec<(SummaryRow, Option<String>)> = match (order, cursor, first_page) {
            (ByColumn::Newest, Some((key, id)), _) => plain(beyond(
                conn,
                &filtered,
                Toward::Older,
                at,
                from_micros(key)?,
                id,
                page.per_page,
            )?),
            (ByColumn::Oldest, Some((key, id)), _) => plain(beyond(
                conn,
                &filtered,
                Toward::Newer,
                at,
                from_micros(key)?,
                id,
                page.per_page,
            )?),
            (ByColumn::MostViewed, Some((key, id)), _) => plain(
                filtered(Some(at))
                    .filter(
                        articles::view_count
                            .lt(key)
                            .or(articles::view_count.eq(key).and(articles::id.lt(id))),
                    )
                    .order((articles::view_count.desc(), articles::id.desc()))
                    .limit(page.per_page)
                    .select(SummaryRow::as_select())
                    .load(conn)?,
            ),
            (ByColumn::Rank, Some(_), _) => return Err(ApiError::bad_request(Code::FeaturedNoCursor)),
            (ByColumn::Newest, None, Some(rows))
                if tag_id.is_none()
                    && author_id.is_none()
                    && from.is_none()
                    && to.is_none()
                    && query.featured.is_none()
                    && search.is_none()
                    && category_ids.as_ref().is_none_or(|ids| ids.len() == 1) =>
            {
                listed(newest_first(
                    conn,
                    at,
                    category_ids.as_ref().and_then(|ids| ids.first().copied()),
                    rows,
                )?)
            }
            (_, None, _) => {
                // By views, SQLite walks `articles_views` when the time bound is out of its
                // reach (see `dated_by`); a category, tag or author keeps its own index, the
                // better walk for a small one.
                let walk_views = matches!(order, ByColumn::MostViewed) && sqlite_unnarrowed;
                let q = match walk_views {
                    true => filtered(None).filter(dated_by(at)),
                    false => filtered(Some(at)),
                };
                let q = match order {
                    ByColumn::Newest => q.order((articles::published_at.desc(), articles::id.desc())),
                    ByColumn::Oldest => q.order((articles::published_at.asc(), articles::id.asc())),
                    ByColumn::MostViewed => q.order((articles::view_count.desc(), articles::id.desc())),
                    ByColumn::Rank => q.order((
                        articles::featured_rank.asc(),
                        articles::published_at.desc(),
                        articles::id.desc(),
                    )),
                };
                // The first page, by far the most read, with its size in the text (see
                // `TextLimit`); later ones with a bound limit and offset. On the first page
                // PostgreSQL reads the link ids with the rows, after its sort and limit; SQLite
                // would compute them for every row it sorts, and both for every row an offset
                // skips (PostgreSQL's deep pages took six times as long), so those read them
                // apart.
                match (page.offset(), u8::try_from(page.per_page), backend) {
                    (0, Ok(rows), Backend::Postgres) => {
                        listed(TextLimit::new(q.select(ListedRow::as_select()), rows).load(conn)?)
                    }
                    (0, Ok(rows), Backend::Sqlite) => {
                        plain(TextLimit::new(q.select(SummaryRow::as_select()), rows).load(conn)?)
                    }
                    (offset, ..) => plain(
                        q.select(SummaryRow::as_select())
                            .offset(offset)
                            .limit(page.per_page)
                            .load(conn)?,
                    ),
                }
            }
        };
        Ok::<_, ApiError>((total, rows))
    })?;
    let next_cursor = match (
        order,
        rows.len() as i64 == page.per_page,
        rows.last().map(|(r, _)| r),
    ) {
        (ByColumn::Newest | ByColumn::Oldest, true, Some(last)) => Some(encode_cursor(
            micros(last.published_at.unwrap_or(last.updated_at)),
            last.id,
        )),
        (ByColumn::MostViewed, true, Some(last)) => Some(encode_cursor(last.view_count, last.id)),
        _ => None,
    };
    let items = listed_summaries(conn, links, Some((names, stamp)), rows)?;
    let capped = walked.is_some_and(|(_, capped)| capped);
    // A page past the counted matches still says how far it reached (see `search_list`).
    let total = match (capped, cursor) {
        (true, None) => total.max(page.offset() + items.len() as i64),
        _ => total,
    };
    let mut list = page.list(items, total);
    list.meta = ListMeta {
        next_cursor,
        total_capped: search.is_some().then_some(capped),
        ..list.meta
    };
    Ok(list)
}

/// The first page of the newest live articles, of all or of one category: the lists read
/// most.
///
/// As statements of a fixed type rather than the boxed query the other lists build, the
/// connection finds them in its statement cache by their type: the boxed query is written
/// out as SQL on every call to be looked up by its text, a twentieth of an uncached list on
/// SQLite and a tenth on PostgreSQL. SQLite plans a bound `LIMIT` once (see
/// `.cargo/config.toml`); PostgreSQL would plan it on every call, so there the size is
/// written into the text (see `TextLimit`), and into the type too for the default size (see
/// `FixedLimit`): other sizes are still looked up by their text.
fn newest_first(
    conn: &mut Db,
    at: NaiveDateTime,
    category: Option<i64>,
    rows: u8,
) -> Result<Vec<ListedRow>, ApiError> {
    let newest = articles::table
        .filter(live_at(at))
        .order((articles::published_at.desc(), articles::id.desc()));
    Ok(match (conn, category) {
        (Db::Sqlite(c), None) => newest
            .limit(i64::from(rows))
            .select(ListedRow::as_select())
            .load(c)?,
        (Db::Sqlite(c), Some(category)) => newest
            .filter(articles::category_id.eq(category))
            .limit(i64::from(rows))
            .select(ListedRow::as_select())
            .load(c)?,
        (Db::Pg(c), None) => first_rows(c, newest.select(ListedRow::as_select()), rows)?,
        (Db::Pg(c), Some(category)) => first_rows(
            c,
            newest
                .filter(articles::category_id.eq(category))
                .select(ListedRow::as_select()),
            rows,
        )?,
    })
}

/// The first `rows` of `query` on PostgreSQL, the count in the text: in the type too when it
/// is the default page size.
fn first_rows<Q>(conn: &mut diesel::PgConnection, query: Q, rows: u8) -> diesel::QueryResult<Vec<ListedRow>>
where
    for<'a> FixedLimit<Q, DEFAULT_PER_PAGE>:
        diesel::query_dsl::LoadQuery<'a, diesel::PgConnection, ListedRow>,
    for<'a> TextLimit<Q>: diesel::query_dsl::LoadQuery<'a, diesel::PgConnection, ListedRow>,
{
    if rows == DEFAULT_PER_PAGE {
        FixedLimit::<_, DEFAULT_PER_PAGE>(query).load(conn)
    } else {
        TextLimit::new(query, rows).load(conn)
    }
}
