//! The moderation desk's view of comments: every detail, the moderation history, filters.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{CommentArticle, CommentDetail, ModerationEntry, Moderator};
use super::model::{CommentRow, CommentStatus};
use crate::db::Db;
use crate::db::schema::{articles, authors, comment_moderations, comments};
use crate::envelope::Page;
use crate::error::ApiError;
use crate::i18n::Code;
use crate::text::{self, fold};

/// Filters of the moderation desk.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeskFilter {
    pub status: Option<CommentStatus>,
    pub article_id: Option<i64>,
    /// Words in the name, title, content, phone or email; case and diacritics are ignored.
    pub q: Option<String>,
    /// Sent at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Sent before this time.
    pub to: Option<DateTime<Utc>>,
}

/// Comments for moderators, newest first, with every detail.
pub fn desk(conn: &mut Db, filter: &DeskFilter, page: Page) -> Result<(Vec<CommentDetail>, i64), ApiError> {
    let pattern = filter
        .q
        .as_deref()
        .map(fold)
        .filter(|q| !q.is_empty())
        .map(|q| text::like_contains(&q));
    let build = || {
        let mut q = comments::table.into_boxed();
        if let Some(status) = filter.status {
            q = q.filter(comments::status.eq(status.as_str()));
        }
        if let Some(article) = filter.article_id {
            q = q.filter(comments::article_id.eq(article));
        }
        if let Some(p) = &pattern {
            q = q.filter(comments::search_text.like(p.clone()).escape('\\'));
        }
        if let Some(from) = filter.from {
            q = q.filter(comments::created_at.ge(from.naive_utc()));
        }
        if let Some(to) = filter.to {
            q = q.filter(comments::created_at.lt(to.naive_utc()));
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let rows: Vec<CommentRow> = build()
        .order((comments::created_at.desc(), comments::id.desc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(CommentRow::as_select())
        .load(conn)?;
    Ok((details(conn, rows)?, total))
}

pub fn detail(conn: &mut Db, id: i64) -> Result<CommentDetail, ApiError> {
    let row: CommentRow = comments::table
        .find(id)
        .select(CommentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::CommentNotFound))?;
    details(conn, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::internal("detail of a loaded comment missing"))
}

/// Rows to desk details, with their articles and histories loaded in two queries.
fn details(conn: &mut Db, rows: Vec<CommentRow>) -> Result<Vec<CommentDetail>, ApiError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let article_ids: BTreeSet<i64> = rows.iter().map(|r| r.article_id).collect();
    let articles: HashMap<i64, CommentArticle> = articles::table
        .filter(articles::id.eq_any(article_ids))
        .select((articles::id, articles::slug, articles::title))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, slug, title)| (id, CommentArticle { id, slug, title }))
        .collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    type HistoryRow = (
        i64,
        Option<String>,
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        chrono::NaiveDateTime,
    );
    let history: Vec<HistoryRow> = comment_moderations::table
        .left_join(authors::table)
        .filter(comment_moderations::comment_id.eq_any(&ids))
        .order(comment_moderations::id.asc())
        .select((
            comment_moderations::comment_id,
            comment_moderations::from_status,
            comment_moderations::to_status,
            comment_moderations::moderator_id,
            authors::name.nullable(),
            comment_moderations::note,
            comment_moderations::created_at,
        ))
        .load(conn)?;
    let mut by_comment: HashMap<i64, Vec<ModerationEntry>> = HashMap::new();
    for (comment, from, to, moderator_id, moderator_name, note, at) in history {
        by_comment.entry(comment).or_default().push(ModerationEntry {
            from: from.as_deref().map(CommentStatus::from_stored).transpose()?,
            to: CommentStatus::from_stored(&to)?,
            moderator: moderator_id
                .zip(moderator_name)
                .map(|(id, name)| Moderator { id, name }),
            note,
            at: at.and_utc(),
        });
    }
    rows.into_iter()
        .map(|r| {
            let status = r.status()?;
            Ok(CommentDetail {
                id: r.id,
                article: articles
                    .get(&r.article_id)
                    .cloned()
                    .ok_or_else(|| ApiError::internal("comment of a missing article"))?,
                parent_id: r.parent_id,
                name: r.name,
                phone: r.phone,
                email: r.email,
                title: r.title,
                content: r.content,
                status,
                is_staff: r.is_staff,
                author_id: r.author_id,
                client_hash: r.client_hash,
                user_agent: r.user_agent,
                flags: r
                    .flags
                    .map(|f| f.split(',').map(str::to_owned).collect())
                    .unwrap_or_default(),
                created_at: r.created_at.and_utc(),
                updated_at: r.updated_at.and_utc(),
                history: by_comment.remove(&r.id).unwrap_or_default(),
            })
        })
        .collect()
}
