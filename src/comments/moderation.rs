//! Moderation: status changes one at a time or in bulk, deletion, and the article's count
//! of approved comments that every change keeps exact.
//!
//! `articles.comment_count` is the number of approved comments and is kept exact by the
//! transaction that changes a status, as a relative update. Every transaction that can move
//! a comment into or out of `approved` first locks the article's row (an UPDATE that changes
//! nothing), so moderations of one article take turns, always in the same lock order, and
//! read statuses that no one else is changing.

use std::collections::BTreeSet;

use diesel::prelude::*;

use super::desk::detail;
use super::dto::{BulkOutcome, BulkResult, CommentDetail, CommentEvent};
use super::model::{CommentRow, CommentStatus, NewModeration};
use crate::audit::{Entry, Resource};
use crate::auth::AuthUser;
use crate::db::schema::{articles, comment_moderations, comments};
use crate::db::{Db, now};
use crate::error::ApiError;
use crate::i18n::{self, Code, Msg};
use crate::webhooks::{self, Event};

/// Comments per bulk moderation.
pub const BULK_MAX: usize = 100;

/// Appends to a comment's moderation history.
pub(super) fn record(
    conn: &mut Db,
    comment_id: i64,
    from: Option<CommentStatus>,
    to: CommentStatus,
    moderator: Option<i64>,
    note: Option<String>,
    at: chrono::NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(comment_moderations::table)
        .values(NewModeration {
            comment_id,
            from_status: from.map(CommentStatus::as_str),
            to_status: to.as_str(),
            moderator_id: moderator,
            note,
            created_at: at,
        })
        .execute(conn)
}

/// Takes the article's row lock: the first statement of every transaction that can change
/// its approved count. Returns false when the article is gone.
pub(super) fn lock_article(conn: &mut Db, article_id: i64) -> QueryResult<bool> {
    let n = diesel::update(articles::table.find(article_id))
        .set(articles::comment_count.eq(articles::comment_count))
        .execute(conn)?;
    Ok(n == 1)
}

/// Every change to the set of approved comments passes here, so this is also where readers'
/// cached threads and counts are invalidated.
pub(super) fn adjust_count(conn: &mut Db, article_id: i64, delta: i64) -> QueryResult<()> {
    if delta != 0 {
        diesel::update(articles::table.find(article_id))
            .set(articles::comment_count.eq(articles::comment_count + delta))
            .execute(conn)?;
        crate::cache::changed(conn, crate::cache::Scope::Comments(article_id))?;
        crate::cache::changed(conn, crate::cache::Scope::Content)?;
    }
    Ok(())
}

fn approved(s: CommentStatus) -> i64 {
    i64::from(s == CommentStatus::Approved)
}

/// One status change by `moderator` inside a transaction that holds the article's lock,
/// logged for the audit.
fn apply(
    conn: &mut Db,
    id: i64,
    to: CommentStatus,
    moderator: i64,
    note: Option<String>,
) -> Result<Result<CommentStatus, (Option<CommentStatus>, Msg)>, ApiError> {
    let current: Option<(i64, String)> = comments::table
        .find(id)
        .select((comments::article_id, comments::status))
        .first(conn)
        .optional()?;
    let Some((article_id, current)) = current else {
        return Ok(Err((None, Msg::new(Code::CommentNotFound))));
    };
    let from = CommentStatus::from_stored(&current)?;
    if !from.may_become(to) {
        return Ok(Err((
            Some(from),
            Msg::new(Code::CommentIllegalTransition)
                .arg("from", from.as_str())
                .arg("to", to.as_str()),
        )));
    }
    let at = now();
    diesel::update(comments::table.find(id))
        .set((comments::status.eq(to.as_str()), comments::updated_at.eq(at)))
        .execute(conn)?;
    adjust_count(conn, article_id, approved(to) - approved(from))?;
    Entry::new(Some(moderator), "comment.moderate", Resource::Comment, Some(id))
        .detail(serde_json::json!({ "from": from.as_str(), "to": to.as_str(), "note": note }))
        .record(conn)?;
    record(conn, id, Some(from), to, Some(moderator), note, at)?;
    Ok(Ok(to))
}

/// Tells subscribers that these comments, just moved from another status, are now approved.
fn announce_approved(conn: &mut Db, ids: &[i64]) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<(CommentRow, String)> = comments::table
        .inner_join(articles::table)
        .filter(comments::id.eq_any(ids))
        .order(comments::id.asc())
        .select((CommentRow::as_select(), articles::slug))
        .load(conn)?;
    let data = rows
        .iter()
        .map(|(row, slug)| {
            Ok(CommentEvent {
                id: row.id,
                article_id: row.article_id,
                article_slug: slug,
                parent_id: row.parent_id,
                status: row.status()?,
                is_staff: row.is_staff,
                name: &row.name,
                title: &row.title,
                content: &row.content,
                created_at: row.created_at,
            }
            .data())
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(webhooks::emit(conn, Event::CommentApproved, &data)?)
}

fn article_of(conn: &mut Db, id: i64) -> Result<Option<i64>, ApiError> {
    Ok(comments::table
        .find(id)
        .select(comments::article_id)
        .first(conn)
        .optional()?)
}

/// Moves one comment to `to`, or 409 naming its current status.
pub fn moderate(
    conn: &mut Db,
    moderator: &AuthUser,
    id: i64,
    to: CommentStatus,
    note: Option<String>,
) -> Result<CommentDetail, ApiError> {
    let article_id = article_of(conn, id)?.ok_or_else(|| ApiError::not_found(Code::CommentNotFound))?;
    conn.transaction::<_, ApiError, _>(|conn| {
        lock_article(conn, article_id)?;
        match apply(conn, id, to, moderator.id, note)? {
            Ok(CommentStatus::Approved) => announce_approved(conn, &[id]),
            Ok(_) => Ok(()),
            Err((None, detail)) => Err(ApiError::NotFound(detail)),
            Err((Some(_), detail)) => Err(ApiError::Conflict(detail)),
        }?;
        detail(conn, id)
    })
}

/// Moves many comments at once; each one that cannot move is reported and left as it is.
pub fn moderate_many(
    conn: &mut Db,
    moderator: &AuthUser,
    ids: &[i64],
    to: CommentStatus,
    note: Option<String>,
) -> Result<Vec<BulkOutcome>, ApiError> {
    let unique: BTreeSet<i64> = ids.iter().copied().collect();
    let articles: BTreeSet<i64> = comments::table
        .filter(comments::id.eq_any(&unique))
        .select(comments::article_id)
        .distinct()
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    conn.transaction::<_, ApiError, _>(|conn| {
        // Ascending order: two bulk moderations over the same articles cannot deadlock.
        for article in &articles {
            lock_article(conn, *article)?;
        }
        let mut outcomes = Vec::with_capacity(unique.len());
        let mut approved_now = Vec::new();
        for &id in &unique {
            let outcome = match apply(conn, id, to, moderator.id, note.clone())? {
                Ok(status) => {
                    if status == CommentStatus::Approved {
                        approved_now.push(id);
                    }
                    BulkOutcome {
                        id,
                        result: BulkResult::Updated,
                        status: Some(status),
                        code: None,
                        detail: None,
                    }
                }
                Err((None, detail)) => BulkOutcome {
                    id,
                    result: BulkResult::NotFound,
                    status: None,
                    code: Some(detail.code),
                    detail: Some(detail.text(i18n::current())),
                },
                Err((Some(current), detail)) => BulkOutcome {
                    id,
                    result: BulkResult::Conflict,
                    status: Some(current),
                    code: Some(detail.code),
                    detail: Some(detail.text(i18n::current())),
                },
            };
            outcomes.push(outcome);
        }
        announce_approved(conn, &approved_now)?;
        Ok(outcomes)
    })
}

/// Deletes a comment (by `moderator`) and, with it, every reply below it; the article's
/// count loses the approved ones among them.
pub fn delete(conn: &mut Db, moderator: &AuthUser, id: i64) -> Result<(), ApiError> {
    let article_id = article_of(conn, id)?.ok_or_else(|| ApiError::not_found(Code::CommentNotFound))?;
    conn.transaction::<_, ApiError, _>(|conn| {
        lock_article(conn, article_id)?;
        let status: String = comments::table
            .find(id)
            .select(comments::status)
            .first(conn)
            .optional()?
            .ok_or_else(|| ApiError::not_found(Code::CommentNotFound))?;
        let mut approved_gone = approved(CommentStatus::from_stored(&status)?);
        let mut replies = 0;
        let mut level = vec![id];
        while !level.is_empty() {
            let below: Vec<(i64, String)> = comments::table
                .filter(comments::parent_id.eq_any(&level))
                .select((comments::id, comments::status))
                .load(conn)?;
            for (_, s) in &below {
                approved_gone += approved(CommentStatus::from_stored(s)?);
            }
            replies += below.len();
            level = below.into_iter().map(|(id, _)| id).collect();
        }
        // The foreign keys cascade to the replies and the moderation history.
        diesel::delete(comments::table.find(id)).execute(conn)?;
        adjust_count(conn, article_id, -approved_gone)?;
        Entry::new(Some(moderator.id), "comment.delete", Resource::Comment, Some(id))
            .detail(serde_json::json!({
                "article_id": article_id,
                "status": status,
                "replies_deleted": replies,
            }))
            .record(conn)?;
        Ok(())
    })
}
