//! One published article as a reader's page shows it, with its neighbours and related
//! articles.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::dto::{ArticleDetail, Neighbour};
use super::super::model::{ArticleRow, SummaryRow};
use super::super::pages::Page;
use super::super::published::live_at;
use super::super::relations::tag_ids_of;
use super::super::render::BodyFormat;
use super::keyset::{Toward, beyond};
use super::summary::summaries;
use crate::db::schema::{article_tags, articles};
use crate::db::{Db, now};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::media::links::Links;
use crate::media::uses;

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
pub fn detail_of(conn: &mut Db, links: &Links, row: ArticleRow) -> Result<ArticleDetail, ApiError> {
    let at = now();
    let published = row.published_at.unwrap_or(row.updated_at);
    let category = row.category_id;
    let same_section = move |upper: NaiveDateTime| {
        let q = articles::table.filter(live_at(upper)).into_boxed();
        match category {
            Some(category) => q.filter(articles::category_id.eq(category)),
            None => q,
        }
    };
    let newer = beyond(conn, &same_section, Toward::Newer, at, published, row.id, SHOWN)?;
    let older = beyond(conn, &same_section, Toward::Older, at, published, row.id, SHOWN)?;
    let mut shown: HashSet<i64> = newer.iter().chain(&older).map(|r| r.id).collect();
    shown.insert(row.id);
    let related = related(conn, &row, &shown, at)?;
    let [newer, older, related] = neighbours(conn, links, [newer, older, related])?;

    let attachments = uses::attachments(conn, links, row.id)?;
    let summary = summaries(conn, links, vec![SummaryRow::from(&row)])?
        .pop()
        .ok_or_else(|| ApiError::internal("summary of a loaded row missing"))?;
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

/// Up to [`SHOWN`] public articles sharing the most tags with `row` (then newest), topped
/// up with the newest of its category; none of them in `shown`.
fn related(
    conn: &mut Db,
    row: &ArticleRow,
    shown: &HashSet<i64>,
    at: NaiveDateTime,
) -> QueryResult<Vec<SummaryRow>> {
    let mut shared: HashMap<i64, usize> = HashMap::new();
    for tag in tag_ids_of(conn, row.id)? {
        let ids: Vec<i64> = article_tags::table
            .filter(article_tags::tag_id.eq(tag))
            .order(article_tags::article_id.desc())
            .limit(RELATED_POOL)
            .select(article_tags::article_id)
            .load(conn)?;
        for id in ids.into_iter().filter(|id| !shown.contains(id)) {
            *shared.entry(id).or_default() += 1;
        }
    }
    // Most shared tags first; ids stand in for recency until the rows are read.
    let mut candidates: Vec<(i64, usize)> = shared.into_iter().collect();
    candidates.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    candidates.truncate(4 * SHOWN as usize);
    let ids: Vec<i64> = candidates.iter().map(|(id, _)| *id).collect();
    let mut rows: Vec<SummaryRow> = if ids.is_empty() {
        Vec::new()
    } else {
        articles::table
            .filter(articles::id.eq_any(&ids))
            .filter(live_at(at))
            .select(SummaryRow::as_select())
            .load(conn)?
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
        rows.extend(
            articles::table
                .filter(live_at(at))
                .filter(articles::category_id.eq(category))
                .filter(articles::id.ne_all(taken))
                .order((articles::published_at.desc(), articles::id.desc()))
                .limit(missing)
                .select(SummaryRow::as_select())
                .load::<SummaryRow>(conn)?,
        );
    }
    Ok(rows)
}

/// Rows as the short items of a page's lists, their categories read in one query for the
/// addresses.
fn neighbours<const N: usize>(
    conn: &mut Db,
    links: &Links,
    lists: [Vec<SummaryRow>; N],
) -> QueryResult<[Vec<Neighbour>; N]> {
    let mut category_ids: Vec<i64> = lists.iter().flatten().filter_map(|r| r.category_id).collect();
    category_ids.sort_unstable();
    category_ids.dedup();
    let categories = crate::taxonomy::service::category_refs(conn, &category_ids)?;
    Ok(lists.map(|rows| {
        rows.into_iter()
            .map(|r| {
                let published_at = r.published_at.unwrap_or(r.updated_at);
                Neighbour {
                    url: links.page(&Page {
                        id: r.id,
                        slug: &r.slug,
                        category: r
                            .category_id
                            .and_then(|c| categories.get(&c))
                            .map(|c| c.slug.as_str()),
                        published_at,
                    }),
                    published_at: published_at.and_utc(),
                    slug: r.slug,
                    title: r.title,
                }
            })
            .collect()
    }))
}
