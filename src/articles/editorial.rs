//! An article as editors see it, and as webhook subscribers are told about it; loading one
//! for a caller, which hides what the policy does not let them see.

use diesel::prelude::*;

use super::dto::{Byline, EditorialArticle};
use super::model::ArticleRow;
use super::relations::Relations;
use super::render::BodyFormat;
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action, ArticleFacts};
use crate::db::Db;
use crate::db::schema::{article_authors, articles};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::taxonomy::dto::{CategoryRef, Tag};

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
pub fn editorial_many(conn: &mut Db, rows: Vec<ArticleRow>) -> Result<Vec<EditorialArticle>, ApiError> {
    let keys: Vec<(i64, Option<i64>)> = rows.iter().map(|r| (r.id, r.category_id)).collect();
    let mut relations = Relations::load(conn, &keys)?;
    rows.into_iter()
        .map(|row| {
            let (category, tags, authors) = relations.take(row.id, row.category_id);
            editorial_from(row, category, tags, authors)
        })
        .collect()
}

/// One article as editors see it.
pub fn editorial(conn: &mut Db, row: ArticleRow) -> Result<EditorialArticle, ApiError> {
    editorial_many(conn, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::internal("an editorial view of a loaded row is missing"))
}

fn editorial_from(
    row: ArticleRow,
    category: Option<CategoryRef>,
    tags: Vec<Tag>,
    authors: Vec<Byline>,
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
        category,
        tags,
        authors,
        meta_title: row.meta_title,
        meta_description: row.meta_description,
        comments_enabled: row.comments_enabled,
        version: row.version,
        publish_at: row.publish_at.map(|t| t.and_utc()),
        published_at: row.published_at.map(|t| t.and_utc()),
        view_count: row.view_count,
        comment_count: row.comment_count,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

pub(super) fn reload(conn: &mut Db, id: i64) -> Result<EditorialArticle, ApiError> {
    let row = find_row(conn, id)?;
    editorial(conn, row)
}

pub fn get(conn: &mut Db, user: &AuthUser, id: i64) -> Result<EditorialArticle, ApiError> {
    let (row, _) = load_for(conn, user, id)?;
    editorial(conn, row)
}
