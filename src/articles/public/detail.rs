//! One published article as a reader's page shows it, with its neighbours and related
//! articles.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::dto::{ArticleDetail, Neighbour};
use super::super::model::{ArticleState, LinkRow, PageRow};
use super::super::names::Names;
use super::super::pages::Page;
use super::super::published::live_at;
use super::super::relations::{PageLinks, Relations};
use super::super::render::BodyFormat;
use super::pools::{self, TagPools};
use super::summary::summary_of;
use crate::cache::Stamp;
use crate::db::ids::not_in_ids;
use crate::db::raw::{self, Raw};
use crate::db::schema::articles;
use crate::db::{Db, direct, now};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::media::links::Links;

/// Neighbours and related articles shown on each side.
const SHOWN: i64 = 5;

/// What a page may take from memory: the tags' pools and the names, kept under the stamp.
pub type Kept<'a> = (&'a TagPools, &'a Names, &'a Stamp);

/// The live article at `slug`, built under the stamp in `kept` (see [`crate::cache`]), which
/// the tags' pools and the names kept there must share.
pub fn detail(conn: &mut Db, links: &Links, kept: Kept, slug: &str) -> Result<ArticleDetail, ApiError> {
    if !crate::text::is_valid_slug(slug) {
        return Err(ApiError::not_found(Code::ArticleNotFound));
    }
    let row: PageRow = direct::first!(
        conn,
        articles::table
            .filter(articles::slug.eq(slug))
            .filter(live_at(now()))
            .select(PageRow::as_select()),
    )?
    .ok_or_else(|| ApiError::not_found(Code::ArticleNotFound))?;
    detail_of(conn, links, Some(kept), row)
}

/// A row as readers see it, whatever its state (previews show unpublished ones): an
/// unpublished row is placed among its neighbours at its last change, as summaries date it.
/// `kept` are the tags' pools and the names kept in memory, and the generations the page is
/// built under; without them (previews) both are read from the database.
///
/// An uncached page costs at most four statements, each prepared once per connection: the
/// row with the ids of its byline and tags and whether it has files, its neighbours, the
/// related rows chosen (when not kept, see [`TagPools::rows`]; the tags' pools too), and its
/// files (when it has any); then the names of its byline and tags and of the categories of
/// everything it links to, when not kept (see [`crate::articles::names`]).
pub fn detail_of(
    conn: &mut Db,
    links: &Links,
    kept: Option<Kept>,
    row: PageRow,
) -> Result<ArticleDetail, ApiError> {
    let at = now();
    let own = &row.summary;
    let published = own.published_at.unwrap_or(own.updated_at);
    let names = kept.map(|(_, names, stamp)| (names, stamp));
    let own_links = PageLinks::read(conn, names, own.id, row.link_ids.as_deref())?;
    let (newer, older) = neighbours_of(conn, at, published, own.id, own.category_id)?;
    // Eleven ids at most, looked up once per candidate of the related ranking: a sorted list
    // is cheaper to search than a hashed set.
    let mut shown: Vec<i64> = newer.iter().chain(&older).map(|r| r.id).collect();
    shown.push(own.id);
    shown.sort_unstable();
    let related = related(conn, kept, &own_links.tag_ids(), own.category_id, &shown, at)?;

    let mut category_ids: Vec<i64> = [&newer, &older, &related]
        .into_iter()
        .flatten()
        .filter_map(|r| r.category_id)
        .chain(own.category_id)
        .collect();
    category_ids.sort_unstable();
    category_ids.dedup();
    let (mut relations, attachments) =
        Relations::for_page(conn, links, names, own_links, row.has_files, &category_ids)?;
    let [newer, older, related] = [newer, older, related].map(|rows| items(links, &relations, rows));
    let taken = relations.take(own.id, own.category_id);
    let summary = summary_of(links, row.summary, taken);
    let og_image = summary
        .cover
        .as_ref()
        .map(|c| c.url.clone())
        .or_else(|| summary.cover_image_url.clone());
    Ok(ArticleDetail {
        canonical_url: row.canonical_url.unwrap_or_else(|| summary.url.clone()),
        og_image,
        summary,
        body_html: row.body_html,
        body_format: BodyFormat::parse(&row.body_format),
        meta_title: row.meta_title,
        meta_description: row.meta_description,
        comments_enabled: row.comments_enabled,
        noindex: row.noindex,
        attachments,
        newer,
        older,
        related,
    })
}

/// A [`LinkRow`] and which of the four walks of [`neighbours_of`] found it.
#[derive(QueryableByName)]
struct Walked {
    #[diesel(embed)]
    link: LinkRow,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    part: i64,
}

/// The columns of [`LinkRow`], as the hand-written statements select them.
const LINK_COLUMNS: &str = "articles.id, articles.slug, articles.title, articles.category_id, \
    articles.published_at, articles.updated_at";

/// The same for rows that are live, whose publication time is also the one they are dated by:
/// every column is then in the category's index (see the migration `article_indexes`), and
/// SQLite walks the index alone.
const LIVE_LINK_COLUMNS: &str = "articles.id, articles.slug, articles.title, articles.category_id, \
    articles.published_at, articles.published_at AS updated_at";

/// Up to [`SHOWN`] live articles of the same category (any, without one) on each side of
/// `(published, id)`, nearest first: newer, then older.
///
/// The four index range walks of [`super::keyset::beyond`] (ties on the time, then the rest,
/// each way) in one statement, each limited on its own, so each keeps its plan.
///
/// The limits are in the text, not bound: with them bound, PostgreSQL costed its generic plan
/// for a tenth of the table and planned the statement afresh on every execution (42,008
/// plans for 41,992 calls under the Zipf mix over 100,000 articles).
fn neighbours_of(
    conn: &mut Db,
    at: NaiveDateTime,
    published: NaiveDateTime,
    id: i64,
    category: Option<i64>,
) -> QueryResult<(Vec<LinkRow>, Vec<LinkRow>)> {
    use std::sync::LazyLock;
    // [without category, with category].
    static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
        ["", " AND articles.category_id = ?"].map(|section| {
            let walk = |part: u8, bounds: &str, order: &str| {
                format!(
                    "SELECT * FROM (SELECT {LIVE_LINK_COLUMNS}, CAST({part} AS BIGINT) AS part FROM articles \
                     WHERE articles.status = '{}'{section} AND {bounds} ORDER BY {order} LIMIT {SHOWN}) AS walk{part}",
                    ArticleState::Published.as_str()
                )
            };
            // The ties carry no upper bound on the time: with one, both SQLite and
            // PostgreSQL may walk the range below it instead of the equal entries. Whether
            // the time itself is live yet is a comparison of two binds, decided once.
            [
                walk(
                    0,
                    "articles.published_at = ? AND articles.id > ? AND ? <= ?",
                    "articles.id ASC",
                ),
                walk(
                    1,
                    "articles.published_at > ? AND articles.published_at <= ?",
                    "articles.published_at ASC, articles.id ASC",
                ),
                walk(2, "articles.published_at = ? AND articles.id < ?", "articles.id DESC"),
                walk(3, "articles.published_at <= ?", "articles.published_at DESC, articles.id DESC"),
            ]
            .join(" UNION ALL ")
        })
    });
    /// The statements' names for the statement cache (see [`Raw::keyed`]).
    struct Anywhere;
    impl raw::Key for Anywhere {}
    struct InCategory;
    impl raw::Key for InCategory {}
    let sql: &'static str = &SQL[usize::from(category.is_some())];
    let walks = Walks {
        category,
        published,
        id,
        at,
    };
    let walked = match category {
        Some(_) => walks.bind(Raw::<InCategory>::keyed(sql, sql)).load(conn)?,
        None => walks.bind(Raw::<Anywhere>::keyed(sql, sql)).load(conn)?,
    };
    Ok(sided(walked))
}

/// The binds of [`neighbours_of`]'s statement.
struct Walks {
    category: Option<i64>,
    published: NaiveDateTime,
    id: i64,
    at: NaiveDateTime,
}

impl Walks {
    fn bind<K: raw::Key>(&self, mut q: Raw<K>) -> Raw<K> {
        let Walks {
            category,
            published,
            id,
            at,
        } = *self;
        let section = |q: Raw<K>| match category {
            Some(category) => q.int(category),
            None => q,
        };
        // Newer: ties on the time with a greater id, then later times, up to now.
        q = section(q).time(published).int(id).time(published).time(at);
        q = section(q).time(published).time(at);
        // Older: ties with a smaller id, then anything up to a microsecond before (stored times
        // are whole microseconds).
        q = section(q).time(published).int(id);
        section(q).time(published - chrono::Duration::microseconds(1))
    }
}

/// The rows of the four walks by their side: newer, older.
fn sided(mut walked: Vec<Walked>) -> (Vec<LinkRow>, Vec<LinkRow>) {
    // Each walk's rows arrive in its order; parts in order keep ties first.
    walked.sort_by_key(|w| w.part);
    let (mut newer, mut older) = (Vec::new(), Vec::new());
    for w in walked {
        let side = if w.part < 2 { &mut newer } else { &mut older };
        if side.len() < SHOWN as usize {
            side.push(w.link);
        }
    }
    (newer, older)
}

/// Up to [`SHOWN`] public articles sharing the most of `tags` (an article's, then newest),
/// topped up with the newest of its `category`; none of them in `shown`.
///
/// Candidates come from each tag's pool (see [`pools`]): counted, ranked and checked for
/// being live in memory, so only the rows shown are read.
fn related(
    conn: &mut Db,
    kept: Option<Kept>,
    tags: &[i64],
    category: Option<i64>,
    shown: &[i64],
    at: NaiveDateTime,
) -> QueryResult<Vec<LinkRow>> {
    let mut tag_pools = Vec::new();
    for &tag in tags {
        tag_pools.push(match kept {
            Some((kept, _, stamp)) => kept.pool(conn, stamp, tag)?,
            None => pools::read(conn, tag)?,
        });
    }
    let ids = ranked(&tag_pools, |id, published| {
        published <= at && shown.binary_search(&id).is_err()
    });
    let read = |conn: &mut Db, ids: &[i64]| live_by_id(conn, ids, at);
    let mut rows: Vec<LinkRow> = match kept {
        _ if ids.is_empty() => Vec::new(),
        Some((kept, _, stamp)) => kept.rows(conn, stamp, &ids, read)?,
        None => read(conn, &ids)?,
    };
    crate::db::ids::in_order_of(&ids, &mut rows, |r| r.id);
    let missing = SHOWN - rows.len() as i64;
    if let (Some(category), true) = (category, missing > 0) {
        let mut taken: Vec<i64> = shown.to_vec();
        taken.extend(rows.iter().map(|r| r.id));
        taken.sort_unstable();
        rows.extend(direct::load!(
            conn,
            articles::table
                .filter(live_at(at))
                .filter(articles::category_id.eq(category))
                .filter(not_in_ids(articles::id, &taken))
                .order((articles::published_at.desc(), articles::id.desc()))
                .limit(missing)
                .select(LinkRow::as_select()),
        )?);
    }
    Ok(rows)
}

/// The ids of up to [`SHOWN`] articles that are in the most of `pools`, then the most recently
/// published, then the greatest id; only those `wanted` says yes to, given their id and time.
///
/// The pools are each ordered by id, greatest first, so they are merged as they stand: an
/// article's count is how many pools have it at their head at once, and no list of every
/// candidate is built or sorted (which was a tenth of an uncached page).
fn ranked(pools: &[pools::Pool], wanted: impl Fn(i64, NaiveDateTime) -> bool) -> Vec<i64> {
    let mut heads: Vec<&[(i64, NaiveDateTime)]> = pools.iter().map(|p| &p[..]).collect();
    // The best so far, best first: (pools sharing it, published, id).
    let mut best: Vec<(usize, NaiveDateTime, i64)> = Vec::with_capacity(SHOWN as usize + 1);
    loop {
        // The greatest id at the head of any pool, and how many pools have it there.
        let (mut id, mut count, mut published) = (i64::MIN, 0, NaiveDateTime::MIN);
        for head in &heads {
            match head.first() {
                Some(&(first, at)) if first > id => (id, count, published) = (first, 1, at),
                Some(&(first, _)) if first == id => count += 1,
                _ => {}
            }
        }
        if count == 0 {
            break;
        }
        for head in &mut heads {
            if let [(first, _), rest @ ..] = *head
                && *first == id
            {
                *head = rest;
            }
        }
        if !wanted(id, published) {
            continue;
        }
        let candidate = (count, published, id);
        let place = best.partition_point(|b| *b > candidate);
        if place < SHOWN as usize {
            best.insert(place, candidate);
            best.truncate(SHOWN as usize);
        }
    }
    best.into_iter().map(|(_, _, id)| id).collect()
}

/// The rows of `ids` that are live at `at`, looked up by id.
///
/// SQLite is told to walk the ids and look each up: left to plan `id IN (…) AND live` itself,
/// it cannot tell how many ids a bound list holds and walks every live row instead, checking
/// each against the list.
fn live_by_id(conn: &mut Db, ids: &[i64], at: NaiveDateTime) -> QueryResult<Vec<LinkRow>> {
    use std::sync::LazyLock;
    static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
        let live = format!(
            "articles.status = '{}' AND articles.published_at <= ?",
            ArticleState::Published.as_str()
        );
        [
            format!(
                "SELECT {LINK_COLUMNS} FROM json_each('[' || ? || ']') AS wanted \
                 CROSS JOIN articles ON articles.id = wanted.value WHERE {live}"
            ),
            format!(
                "SELECT {LINK_COLUMNS} FROM articles WHERE articles.id {} AND {live}",
                raw::IDS_PG
            ),
        ]
    });
    /// The statement's name for the statement cache (see [`Raw::keyed`]).
    struct LiveById;
    impl raw::Key for LiveById {}
    Raw::<LiveById>::keyed(&SQL[0], &SQL[1])
        .ids(ids)
        .time(at)
        .load(conn)
}

/// Rows as the short items of a page's lists, their categories taken from `relations`.
fn items(links: &Links, relations: &Relations, rows: Vec<LinkRow>) -> Vec<Neighbour> {
    rows.into_iter()
        .map(|r| {
            let published_at = r.published_at.unwrap_or(r.updated_at);
            let category = relations.category(r.category_id);
            Neighbour {
                url: links.page(&Page {
                    id: r.id,
                    slug: &r.slug,
                    category: category.as_ref().map(|c| c.slug.as_str()),
                    published_at,
                }),
                published_at: published_at.and_utc(),
                slug: r.slug,
                title: r.title,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(0, minute, 0))
            .unwrap_or_default()
    }

    fn pool(ids: &[i64]) -> pools::Pool {
        // Times follow ids here, as they do for articles published in turn.
        let mut entries: Vec<(i64, NaiveDateTime)> = ids.iter().map(|&id| (id, at(id as u32))).collect();
        entries.sort_unstable_by_key(|e| std::cmp::Reverse(e.0));
        entries.into()
    }

    /// The ranking as a sort of every candidate states it: most pools, then newest, then
    /// greatest id.
    fn sorted(pools: &[pools::Pool], wanted: impl Fn(i64, NaiveDateTime) -> bool) -> Vec<i64> {
        let mut all: Vec<(i64, NaiveDateTime)> = pools
            .iter()
            .flat_map(|p| p.iter().copied())
            .filter(|&(id, t)| wanted(id, t))
            .collect();
        all.sort_unstable_by_key(|&(id, _)| id);
        let mut ranked: Vec<(usize, NaiveDateTime, i64)> = all
            .chunk_by(|a, b| a.0 == b.0)
            .map(|run| (run.len(), run[0].1, run[0].0))
            .collect();
        ranked.sort_unstable_by(|a, b| b.cmp(a));
        ranked.truncate(SHOWN as usize);
        ranked.into_iter().map(|(_, _, id)| id).collect()
    }

    #[test]
    fn articles_in_more_pools_rank_first_then_the_newest() {
        let pools = [pool(&[1, 2, 3, 9]), pool(&[2, 3, 4]), pool(&[3, 5, 6, 7, 8])];
        // 3 is in three pools, 2 in two, then the rest newest first.
        assert_eq!(ranked(&pools, |_, _| true), vec![3, 2, 9, 8, 7]);
    }

    #[test]
    fn unwanted_articles_are_skipped_not_counted_for_others() {
        let pools = [pool(&[1, 2, 3, 9]), pool(&[2, 3, 4]), pool(&[3, 5, 6, 7, 8])];
        let ranks = ranked(&pools, |id, t| id != 3 && t <= at(8));
        assert_eq!(ranks, vec![2, 8, 7, 6, 5]);
    }

    #[test]
    fn fewer_candidates_than_shown_are_all_ranked_and_no_pools_rank_nothing() {
        assert_eq!(ranked(&[pool(&[4, 1])], |_, _| true), vec![4, 1]);
        assert_eq!(ranked(&[], |_, _| true), Vec::<i64>::new());
        assert_eq!(ranked(&[pool(&[]), pool(&[])], |_, _| true), Vec::<i64>::new());
    }

    #[test]
    fn merging_ranks_as_sorting_every_candidate_does() {
        // Overlapping pools from a fixed pseudo-random sequence.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..200 {
            let pools: Vec<pools::Pool> = (0..(round % 7))
                .map(|_| {
                    let mut ids: Vec<i64> = (0..(next() % 40)).map(|_| (next() % 60) as i64).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    pool(&ids)
                })
                .collect();
            let skip = (next() % 60) as i64;
            let wanted = |id: i64, _| id != skip && id % 11 != 0;
            assert_eq!(ranked(&pools, wanted), sorted(&pools, wanted), "round {round}");
        }
    }
}
