//! One published article as a reader's page shows it, with its neighbours.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::dto::{ArticleDetail, Neighbour};
use super::super::model::{ArticleRow, SummaryRow};
use super::super::published::live_at;
use super::super::render::BodyFormat;
use super::keyset::{Toward, beyond};
use super::summary::summaries;
use crate::db::schema::articles;
use crate::db::{Db, now};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::media::links::Links;
use crate::media::uses;

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
    let attachments = uses::attachments(conn, links, row.id)?;
    let summary = summaries(conn, links, vec![SummaryRow::from(&row)])?
        .pop()
        .ok_or_else(|| ApiError::internal("summary of a loaded row missing"))?;
    Ok(ArticleDetail {
        summary,
        body_html,
        body_format,
        meta_title,
        meta_description,
        comments_enabled,
        attachments,
        newer,
        older,
    })
}
