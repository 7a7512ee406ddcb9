//! An article's saved versions: writing one with every save, listing and reading them, and
//! restoring one as a new version.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dto::{Byline, EditorialArticle, Revision, RevisionSummary};
use super::editorial::load_for;
use super::model::Content;
use super::service::save;
use super::slug::slug_taken;
use super::validate::check_content;
use crate::audit::{Entry, Resource};
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action};
use crate::db::schema::{article_revisions, authors, media, tags};
use crate::db::{Db, now};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::media::links::Links;
use crate::taxonomy::service as taxonomy;

/// A revision's content as stored. The latest revision leaves out the body (`null`): it is
/// the article's own, which the next save writes into it before changing the article (see
/// [`write_revision`]). An article most often has one version, so its body is stored once
/// instead of twice.
pub(super) fn stored_content(c: &Content) -> Result<String, ApiError> {
    let mut value = serde_json::to_value(c).map_err(|e| ApiError::internal(e.to_string()))?;
    value["body"] = serde_json::Value::Null;
    Ok(value.to_string())
}

/// Saves version `version`; `replaced_body` is the body the save replaced, which the
/// previous latest revision left out and now keeps.
pub(super) fn write_revision(
    conn: &mut Db,
    id: i64,
    version: i64,
    c: &Content,
    editor: Option<i64>,
    replaced_body: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(body) = replaced_body {
        keep_body(conn, id, body)?;
    }
    diesel::insert_into(article_revisions::table)
        .values((
            article_revisions::article_id.eq(id),
            article_revisions::version.eq(version),
            article_revisions::content.eq(stored_content(c)?),
            article_revisions::edited_by.eq(editor),
            article_revisions::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes `body` into the article's latest revision if that one left its body out.
fn keep_body(conn: &mut Db, id: i64, body: &str) -> Result<(), ApiError> {
    let latest: Option<(i64, String)> = article_revisions::table
        .filter(article_revisions::article_id.eq(id))
        .order(article_revisions::version.desc())
        .select((article_revisions::id, article_revisions::content))
        .first(conn)
        .optional()?;
    let Some((revision, raw)) = latest else {
        return Ok(());
    };
    let mut value: serde_json::Value =
        serde_json::from_str(&raw).map_err(|e| ApiError::internal(format!("unreadable revision: {e}")))?;
    if value.get("body").is_some_and(serde_json::Value::is_null) {
        value["body"] = serde_json::Value::String(body.to_owned());
        diesel::update(article_revisions::table.find(revision))
            .set(article_revisions::content.eq(value.to_string()))
            .execute(conn)?;
    }
    Ok(())
}

#[derive(Queryable)]
struct RevisionRow {
    version: i64,
    content: String,
    edited_by: Option<i64>,
    created_at: NaiveDateTime,
}

fn editor_bylines(conn: &mut Db, ids: Vec<i64>) -> QueryResult<HashMap<i64, Byline>> {
    let rows: Vec<Byline> = authors::table
        .filter(authors::id.eq_any(ids))
        .select(Byline::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|b| (b.id, b)).collect())
}

/// A stored revision's content; `article_body` is the article's current body, which the
/// latest revision stands for (see [`stored_content`]).
fn parse_content(raw: &str, article_body: &str) -> Result<Content, ApiError> {
    let mut value: serde_json::Value =
        serde_json::from_str(raw).map_err(|e| ApiError::internal(format!("unreadable revision: {e}")))?;
    if value.get("body").is_some_and(serde_json::Value::is_null) {
        value["body"] = serde_json::Value::String(article_body.to_owned());
    }
    serde_json::from_value(value).map_err(|e| ApiError::internal(format!("unreadable revision: {e}")))
}

pub fn revisions(conn: &mut Db, user: &AuthUser, id: i64) -> Result<Vec<RevisionSummary>, ApiError> {
    let (article, _) = load_for(conn, user, id)?;
    let rows: Vec<RevisionRow> = article_revisions::table
        .filter(article_revisions::article_id.eq(id))
        .order(article_revisions::version.desc())
        .select((
            article_revisions::version,
            article_revisions::content,
            article_revisions::edited_by,
            article_revisions::created_at,
        ))
        .load(conn)?;
    let editors = editor_bylines(conn, rows.iter().filter_map(|r| r.edited_by).collect())?;
    rows.into_iter()
        .map(|r| {
            Ok(RevisionSummary {
                version: r.version,
                title: parse_content(&r.content, &article.body)?.title,
                edited_by: r.edited_by.and_then(|e| editors.get(&e).cloned()),
                created_at: r.created_at.and_utc(),
            })
        })
        .collect()
}

fn revision_row(conn: &mut Db, id: i64, version: i64) -> Result<RevisionRow, ApiError> {
    article_revisions::table
        .filter(article_revisions::article_id.eq(id))
        .filter(article_revisions::version.eq(version))
        .select((
            article_revisions::version,
            article_revisions::content,
            article_revisions::edited_by,
            article_revisions::created_at,
        ))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::RevisionNotFound))
}

pub fn revision(conn: &mut Db, user: &AuthUser, id: i64, version: i64) -> Result<Revision, ApiError> {
    let (article, _) = load_for(conn, user, id)?;
    let r = revision_row(conn, id, version)?;
    let editors = editor_bylines(conn, r.edited_by.into_iter().collect())?;
    Ok(Revision {
        version: r.version,
        edited_by: r.edited_by.and_then(|e| editors.get(&e).cloned()),
        created_at: r.created_at.and_utc(),
        content: parse_content(&r.content, &article.body)?,
    })
}

/// Brings back an earlier version's content as a new version. Tags, categories, authors or
/// library files deleted since are dropped from the restored content rather than failing
/// the restore.
pub fn restore(
    conn: &mut Db,
    user: &AuthUser,
    links: &Links,
    id: i64,
    version: i64,
) -> Result<EditorialArticle, ApiError> {
    let (row, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::EditArticle(facts))?;
    let mut c = parse_content(&revision_row(conn, id, version)?.content, &row.body)?;
    if slug_taken(conn, &c.slug, Some(id))? {
        c.slug = row.slug.clone();
    }
    if let Some(category) = c.category_id
        && !taxonomy::category_exists(conn, category)?
    {
        c.category_id = None;
    }
    let live_tags: Vec<i64> = tags::table
        .filter(tags::id.eq_any(&c.tag_ids))
        .select(tags::id)
        .load(conn)?;
    c.tag_ids.retain(|t| live_tags.contains(t));
    let live_authors: Vec<i64> = authors::table
        .filter(authors::id.eq_any(&c.author_ids))
        .select(authors::id)
        .load(conn)?;
    c.author_ids.retain(|a| live_authors.contains(a));
    let mut named: Vec<i64> = c.attachment_ids.clone();
    named.extend(c.cover_media_id);
    let live_files: Vec<i64> = media::table
        .filter(media::id.eq_any(&named))
        .select(media::id)
        .load(conn)?;
    c.cover_media_id = c.cover_media_id.filter(|m| live_files.contains(m));
    c.attachment_ids.retain(|m| live_files.contains(m));
    // Where the article stands among featured news is the desk's current choice, not part
    // of the version brought back.
    c.featured = row.featured;
    c.featured_rank = row.featured_rank;
    let c = check_content(conn, user, c, None)?;
    let audit = Entry::new(Some(user.id), "article.restore", Resource::Article, Some(id))
        .detail(serde_json::json!({ "restored": version, "version": row.version + 1 }));
    save(conn, links, &row, &c, user.id, audit)
}
