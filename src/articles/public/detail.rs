//! One published article as a reader's page shows it, with its neighbours and related
//! articles.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::dto::{ArticleDetail, Neighbour};
use super::super::model::{ArticleRow, ArticleState, SummaryRow};
use super::super::pages::Page;
use super::super::published::live_at;
use super::super::relations::Relations;
use super::super::render::BodyFormat;
use super::summary::summary_of;
use crate::db::ids::not_in_ids;
use crate::db::raw::{self, Raw};
use crate::db::schema::articles;
use crate::db::{Db, now};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::media::links::Links;

/// Neighbours and related articles shown on each side.
const SHOWN: i64 = 5;
/// The most recent articles of each tag that related articles are chosen from: an index
/// range per tag, so a tag on a hundred thousand articles costs no more than a new one.
const RELATED_POOL: i64 = 500;

/// The live article at `slug`.
pub fn detail(conn: &mut Db, links: &Links, slug: &str) -> Result<ArticleDetail, ApiError> {
    if !crate::text::is_valid_slug(slug) {
        return Err(ApiError::not_found(Code::ArticleNotFound));
    }
    let row: ArticleRow = articles::table
        .filter(articles::slug.eq(slug))
        .filter(live_at(now()))
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::ArticleNotFound))?;
    detail_of(conn, links, row)
}

/// A row as readers see it, whatever its state (previews show unpublished ones): an
/// unpublished row is placed among its neighbours at its last change, as summaries date it.
///
/// An uncached page costs seven statements, each prepared once per connection: the row, its
/// neighbours, its related articles (the tags' pools, then the chosen rows), its byline and
/// tags, its files, and the categories of everything it links to.
pub fn detail_of(conn: &mut Db, links: &Links, row: ArticleRow) -> Result<ArticleDetail, ApiError> {
    let at = now();
    let published = row.published_at.unwrap_or(row.updated_at);
    let (newer, older) = neighbours_of(conn, at, published, row.id, row.category_id)?;
    let mut shown: HashSet<i64> = newer.iter().chain(&older).map(|r| r.id).collect();
    shown.insert(row.id);
    let related = related(conn, &row, &shown, at)?;

    let mut category_ids: Vec<i64> = [&newer, &older, &related]
        .into_iter()
        .flatten()
        .filter_map(|r| r.category_id)
        .chain(row.category_id)
        .collect();
    category_ids.sort_unstable();
    category_ids.dedup();
    let (mut relations, attachments) = Relations::for_page(conn, links, row.id, &category_ids)?;
    let [newer, older, related] = [newer, older, related].map(|rows| items(links, &relations, rows));
    let summary = summary_of(
        links,
        SummaryRow::from(&row),
        relations.take(row.id, row.category_id),
    );
    let og_image = summary
        .cover
        .as_ref()
        .map(|c| c.url.clone())
        .or_else(|| row.cover_image_url.clone());
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

/// A [`SummaryRow`] and which of the four walks of [`neighbours_of`] found it.
#[derive(QueryableByName)]
struct Walked {
    #[diesel(embed)]
    summary: SummaryRow,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    part: i64,
}

/// The columns of [`SummaryRow`], as the hand-written statements select them.
const SUMMARY_COLUMNS: &str = "articles.id, articles.slug, articles.title, articles.summary, \
    articles.source, articles.cover_image_url, articles.category_id, articles.published_at, \
    articles.updated_at, articles.view_count, articles.comment_count";

/// Up to [`SHOWN`] live articles of the same category (any, without one) on each side of
/// `(published, id)`, nearest first: newer, then older.
///
/// The four index range walks of [`super::keyset::beyond`] (ties on the time, then the rest,
/// each way) in one statement, each limited on its own, so each keeps its plan.
fn neighbours_of(
    conn: &mut Db,
    at: NaiveDateTime,
    published: NaiveDateTime,
    id: i64,
    category: Option<i64>,
) -> QueryResult<(Vec<SummaryRow>, Vec<SummaryRow>)> {
    use std::sync::LazyLock;
    // [without category, with category].
    static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
        ["", " AND articles.category_id = ?"].map(|section| {
            let walk = |part: u8, bounds: &str, order: &str| {
                format!(
                    "SELECT * FROM (SELECT {SUMMARY_COLUMNS}, CAST({part} AS BIGINT) AS part FROM articles \
                     WHERE articles.status = '{}'{section} AND {bounds} ORDER BY {order} LIMIT ?) AS walk{part}",
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
    let section = |q: Raw| match category {
        Some(category) => q.int(category),
        None => q,
    };
    let sql: &'static str = &SQL[usize::from(category.is_some())];
    let mut q = Raw::new(sql);
    // Newer: ties on the time with a greater id, then later times, up to now.
    q = section(q)
        .time(published)
        .int(id)
        .time(published)
        .time(at)
        .int(SHOWN);
    q = section(q).time(published).time(at).int(SHOWN);
    // Older: ties with a smaller id, then anything up to a microsecond before (stored times
    // are whole microseconds).
    q = section(q).time(published).int(id).int(SHOWN);
    q = section(q)
        .time(published - chrono::Duration::microseconds(1))
        .int(SHOWN);
    let mut walked: Vec<Walked> = q.load(conn)?;
    // Each walk's rows arrive in its order; parts in order keep ties first.
    walked.sort_by_key(|w| w.part);
    let (mut newer, mut older) = (Vec::new(), Vec::new());
    for w in walked {
        let side = if w.part < 2 { &mut newer } else { &mut older };
        if side.len() < SHOWN as usize {
            side.push(w.summary);
        }
    }
    Ok((newer, older))
}

/// Up to [`SHOWN`] public articles sharing the most tags with `row` (then newest), topped
/// up with the newest of its category; none of them in `shown`.
///
/// Candidates come from the [`RELATED_POOL`] most recent articles of each of its tags, read
/// in one statement: the materialised sub-select finds, once per tag, where that range of the
/// tag's index entries starts, so a tag on a hundred thousand articles costs no more than a
/// new one. Counting is left to Rust: grouping and sorting the pools in SQL costs SQLite a
/// temporary B-tree, four times the time of reading them.
fn related(
    conn: &mut Db,
    row: &ArticleRow,
    shown: &HashSet<i64>,
    at: NaiveDateTime,
) -> QueryResult<Vec<SummaryRow>> {
    #[derive(QueryableByName)]
    struct Pooled {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        ids: Option<String>,
    }
    // The pools come back as one text: a thousand ids as rows would cost a thousand trips
    // through the driver, each reading its column by name.
    macro_rules! pools {
        ($ids:literal) => {
            concat!(
                "WITH pools AS MATERIALIZED (\
                    SELECT mine.tag_id AS tag_id, COALESCE((SELECT pool.article_id FROM article_tags pool \
                        WHERE pool.tag_id = mine.tag_id ORDER BY pool.article_id DESC LIMIT 1 OFFSET ?), 0) AS floor \
                    FROM article_tags mine WHERE mine.article_id = ?) \
                SELECT ",
                $ids,
                " AS ids FROM pools \
                JOIN article_tags other ON other.tag_id = pools.tag_id AND other.article_id >= pools.floor"
            )
        };
    }
    let pooled: Vec<Pooled> = Raw::each(
        pools!("group_concat(other.article_id)"),
        pools!("string_agg(other.article_id::text, ',')"),
    )
    .int(RELATED_POOL - 1)
    .int(row.id)
    .load(conn)?;
    let mut shared: HashMap<i64, usize> = HashMap::new();
    for id in pooled
        .iter()
        .filter_map(|p| p.ids.as_deref())
        .flat_map(|ids| ids.split(','))
        .filter_map(|id| id.parse::<i64>().ok())
        .filter(|id| !shown.contains(id))
    {
        *shared.entry(id).or_default() += 1;
    }
    // Most shared tags first; ids stand in for recency until the rows are read.
    let mut candidates: Vec<(i64, usize)> = shared.into_iter().collect();
    candidates.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    candidates.truncate(4 * SHOWN as usize);
    let ids: Vec<i64> = candidates.iter().map(|(id, _)| *id).collect();
    let mut rows: Vec<SummaryRow> = if ids.is_empty() {
        Vec::new()
    } else {
        live_by_id(conn, &ids, at)?
    };
    let count: HashMap<i64, usize> = candidates.into_iter().collect();
    rows.sort_by(|a, b| {
        let key = |r: &SummaryRow| (count.get(&r.id).copied().unwrap_or(0), r.published_at, r.id);
        key(b).cmp(&key(a))
    });
    rows.truncate(SHOWN as usize);
    let missing = SHOWN - rows.len() as i64;
    if let (Some(category), true) = (row.category_id, missing > 0) {
        let mut taken: Vec<i64> = shown.iter().copied().collect();
        taken.extend(rows.iter().map(|r| r.id));
        taken.sort_unstable();
        rows.extend(
            articles::table
                .filter(live_at(at))
                .filter(articles::category_id.eq(category))
                .filter(not_in_ids(articles::id, &taken))
                .order((articles::published_at.desc(), articles::id.desc()))
                .limit(missing)
                .select(SummaryRow::as_select())
                .load::<SummaryRow>(conn)?,
        );
    }
    Ok(rows)
}

/// The rows of `ids` that are live at `at`, looked up by id.
///
/// SQLite is told to walk the ids and look each up: left to plan `id IN (…) AND live` itself,
/// it cannot tell how many ids a bound list holds and walks every live row instead, checking
/// each against the list.
fn live_by_id(conn: &mut Db, ids: &[i64], at: NaiveDateTime) -> QueryResult<Vec<SummaryRow>> {
    use std::sync::LazyLock;
    static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
        let live = format!(
            "articles.status = '{}' AND articles.published_at <= ?",
            ArticleState::Published.as_str()
        );
        [
            format!(
                "SELECT {SUMMARY_COLUMNS} FROM json_each('[' || ? || ']') AS wanted \
                 CROSS JOIN articles ON articles.id = wanted.value WHERE {live}"
            ),
            format!(
                "SELECT {SUMMARY_COLUMNS} FROM articles WHERE articles.id {} AND {live}",
                raw::IDS_PG
            ),
        ]
    });
    Raw::each(&SQL[0], &SQL[1]).ids(ids).time(at).load(conn)
}

/// Rows as the short items of a page's lists, their categories taken from `relations`.
fn items(links: &Links, relations: &Relations, rows: Vec<SummaryRow>) -> Vec<Neighbour> {
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
