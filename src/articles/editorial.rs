//! An article as editors see it, and as webhook subscribers are told about it; loading one
//! for a caller, which hides what the policy does not let them see.

use diesel::prelude::*;

use super::dto::EditorialArticle;
use super::model::ArticleRow;
use super::relations::{Related, Relations};
use super::render::BodyFormat;
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action, ArticleFacts};
use crate::db::Db;
use crate::db::schema::{article_authors, articles};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::media::links::Links;
use crate::media::uses;

/// What webhook subscribers receive about an article, read inside the transaction of the
/// change so it shows the change.
pub(super) fn event_data(conn: &mut Db, id: i64) -> Result<serde_json::Value, ApiError> {
    let row = find_row(conn, id)?;
    Ok(serde_json::json!({
        "id": row.id,
        "slug": row.slug,
        "title": row.title,
        "summary": row.summary,
        "status": row.status,
        "category_id": row.category_id,
        "version": row.version,
        "published_at": row.published_at.map(|t| crate::time::format(&t.and_utc())),
        "updated_at": crate::time::format(&row.updated_at.and_utc()),
    }))
}

pub(super) fn find_row(conn: &mut Db, id: i64) -> Result<ArticleRow, ApiError> {
    articles::table
        .find(id)
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::ArticleNotFound))
}

/// The article and what the policy needs to know about it for this caller. An article the
/// caller may not even see is a 404, so its existence is not revealed.
pub(super) fn load_for(
    conn: &mut Db,
    user: &AuthUser,
    id: i64,
) -> Result<(ArticleRow, ArticleFacts), ApiError> {
    let row = find_row(conn, id)?;
    let own = article_authors::table
        .filter(article_authors::article_id.eq(id))
        .filter(article_authors::author_id.eq(user.id))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    let facts = ArticleFacts {
        own,
        state: row.state()?,
    };
    if !policy::allows(user.role, Action::ViewArticle(facts)) {
        return Err(ApiError::not_found(Code::ArticleNotFound));
    }
    Ok((row, facts))
}

/// Articles as editors see them.
pub fn editorial_many(
    conn: &mut Db,
    links: &Links,
    rows: Vec<ArticleRow>,
) -> Result<Vec<EditorialArticle>, ApiError> {
    let keys: Vec<(i64, Option<i64>, Option<&str>)> =
        rows.iter().map(|r| (r.id, r.category_id, None)).collect();
    let ids: Vec<i64> = keys.iter().map(|(id, ..)| *id).collect();
    let mut relations = Relations::load(conn, links, None, &keys)?;
    let mut files = uses::shown(conn, links, &ids)?;
    rows.into_iter()
        .map(|row| {
            let related = relations.take(row.id, row.category_id);
            let files = files.remove(&row.id).unwrap_or_default();
            editorial_from(row, related, files)
        })
        .collect()
}

/// One article as editors see it.
pub fn editorial(conn: &mut Db, links: &Links, row: ArticleRow) -> Result<EditorialArticle, ApiError> {
    editorial_many(conn, links, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::internal("an editorial view of a loaded row is missing"))
}

fn editorial_from(
    row: ArticleRow,
    related: Related,
    files: uses::Shown,
) -> Result<EditorialArticle, ApiError> {
    Ok(EditorialArticle {
        status: row.state()?,
        body_format: BodyFormat::parse(&row.body_format),
        id: row.id,
        slug: row.slug,
        title: row.title,
        summary: row.summary,
        source: row.source,
        body: row.body,
        body_html: row.body_html,
        cover_image_url: row.cover_image_url,
        cover_media_id: files.cover_id,
        cover: files.cover,
        attachment_ids: files.attachment_ids,
        attachments: files.attachments,
        category: related.category,
        tags: related.tags,
        authors: related.authors,
        meta_title: row.meta_title,
        meta_description: row.meta_description,
        comments_enabled: row.comments_enabled,
        version: row.version,
        publish_at: row.publish_at.map(|t| t.and_utc()),
        unpublish_at: row.unpublish_at.map(|t| t.and_utc()),
        featured: row.featured,
        featured_rank: row.featured_rank,
        noindex: row.noindex,
        canonical_url: row.canonical_url,
        published_at: row.published_at.map(|t| t.and_utc()),
        view_count: row.view_count,
        comment_count: row.comment_count,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

pub(super) fn reload(conn: &mut Db, links: &Links, id: i64) -> Result<EditorialArticle, ApiError> {
    let row = find_row(conn, id)?;
    editorial(conn, links, row)
}

pub fn get(conn: &mut Db, user: &AuthUser, links: &Links, id: i64) -> Result<EditorialArticle, ApiError> {
    let (row, _) = load_for(conn, user, id)?;
    editorial(conn, links, row)
}
