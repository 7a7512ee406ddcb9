//! Replies from the newsroom, approved as they are written.

use diesel::prelude::*;

use super::desk::detail;
use super::dto::{CommentDetail, CommentEvent, StaffReplyInput};
use super::model::{CommentStatus, NewComment};
use super::moderation::{adjust_count, lock_article, record};
use super::submit::thread_root;
use super::validate::{CONTENT_MAX, CleanForm, TITLE_MAX, required_text};
use crate::audit::{Entry, Resource};
use crate::auth::AuthUser;
use crate::db::schema::{articles, authors, comments};
use crate::db::{Db, now};
use crate::error::{ApiError, FieldError};
use crate::i18n::{Code, FieldCode};
use crate::webhooks::{self, Event};

/// A reply from the newsroom: approved at once, marked `is_staff`, signed with the staff
/// account's name. Staff may reply on any article that exists, even with comments closed.
pub fn staff_reply(
    conn: &mut Db,
    staff: &AuthUser,
    article_id: i64,
    input: StaffReplyInput,
    client_hash: String,
) -> Result<CommentDetail, ApiError> {
    let mut errors = Vec::new();
    let title = required_text("title", &input.title, TITLE_MAX, &mut errors);
    let content = required_text("content", &input.content, CONTENT_MAX, &mut errors);
    if input.parent_id.is_some_and(|id| id <= 0) {
        errors.push(FieldError::new("parent_id", FieldCode::InvalidValue));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let name: String = authors::table.find(staff.id).select(authors::name).first(conn)?;
    let form = CleanForm::new(name, title, content, input.parent_id);
    let at = now();
    conn.transaction::<_, ApiError, _>(|conn| {
        if !lock_article(conn, article_id)? {
            return Err(ApiError::not_found(Code::ArticleNotFound));
        }
        let article_slug: String = articles::table
            .find(article_id)
            .select(articles::slug)
            .first(conn)?;
        let root_id = match form.parent_id {
            Some(parent) => Some(thread_root(conn, article_id, parent)?),
            None => None,
        };
        let id: i64 = diesel::insert_into(comments::table)
            .values(NewComment {
                article_id,
                parent_id: form.parent_id,
                root_id,
                name: &form.name,
                title: &form.title,
                content: &form.content,
                status: CommentStatus::Approved.as_str(),
                is_staff: true,
                author_id: Some(staff.id),
                client_hash: &client_hash,
                content_hash: &form.content_hash,
                search_text: form.search_text(),
                created_at: at,
                updated_at: at,
            })
            .returning(comments::id)
            .get_result(conn)?;
        adjust_count(conn, article_id, 1)?;
        record(
            conn,
            id,
            None,
            CommentStatus::Approved,
            Some(staff.id),
            Some("staff reply".into()),
            at,
        )?;
        Entry::new(Some(staff.id), "comment.reply", Resource::Comment, Some(id))
            .detail(serde_json::json!({ "article_id": article_id, "parent_id": form.parent_id }))
            .record(conn)?;
        // Created and approved at once: subscribers of either event hear of it.
        let data = [CommentEvent {
            id,
            article_id,
            article_slug: &article_slug,
            parent_id: form.parent_id,
            status: CommentStatus::Approved,
            is_staff: true,
            name: &form.name,
            title: &form.title,
            content: &form.content,
            created_at: at,
        }
        .data()];
        webhooks::emit(conn, Event::CommentCreated, &data)?;
        webhooks::emit(conn, Event::CommentApproved, &data)?;
        detail(conn, id)
    })
}
