//! Public list items: summary rows with their bylines, tags and categories.

use super::super::dto::ArticleSummary;
use super::super::model::SummaryRow;
use super::super::names::Lookup;
use super::super::pages::Page;
use super::super::relations::{Related, Relations};
use crate::db::Db;
use crate::error::ApiError;
use crate::media::links::Links;

/// Summaries of rows, with bylines, tags, categories and covers fetched in batch queries
/// (the names from `kept` when it holds them).
pub fn summaries(
    conn: &mut Db,
    links: &Links,
    kept: Lookup,
    rows: Vec<SummaryRow>,
) -> Result<Vec<ArticleSummary>, ApiError> {
    listed(conn, links, kept, rows.into_iter().map(|r| (r, None)).collect())
}

/// Summaries of rows given with their link ids as read with them, or `None` to read those in
/// batch (see [`Relations::load`]).
pub fn listed(
    conn: &mut Db,
    links: &Links,
    kept: Lookup,
    rows: Vec<(SummaryRow, Option<String>)>,
) -> Result<Vec<ArticleSummary>, ApiError> {
    let keys: Vec<(i64, Option<i64>, Option<&str>)> = rows
        .iter()
        .map(|(r, ids)| (r.id, r.category_id, ids.as_deref()))
        .collect();
    let mut relations = Relations::load(conn, links, kept, &keys)?;
    drop(keys);
    Ok(rows
        .into_iter()
        .map(|(r, _)| {
            let related = relations.take(r.id, r.category_id);
            summary_of(links, r, related)
        })
        .collect())
}

/// The summary of a row, with what it is linked to.
pub fn summary_of(links: &Links, r: SummaryRow, related: Related) -> ArticleSummary {
    let published_at = r.published_at.unwrap_or(r.updated_at);
    let url = links.page(&Page {
        id: r.id,
        slug: &r.slug,
        category: related.category.as_ref().map(|c| c.slug.as_str()),
        published_at,
    });
    ArticleSummary {
        url,
        category: related.category,
        tags: related.tags,
        authors: related.authors,
        cover: related.cover,
        published_at: published_at.and_utc(),
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
}
