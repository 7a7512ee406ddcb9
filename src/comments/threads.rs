//! The public threads: approved comments of an article, nested under their parents.

use std::collections::HashMap;

use diesel::prelude::*;

use super::dto::PublicComment;
use super::model::CommentStatus;
use crate::db::Db;
use crate::db::schema::comments;
use crate::envelope::{List, Page};
use crate::error::ApiError;

/// Approved comments of a published article (found with `published_article`), threaded,
/// oldest first; a page holds `per_page` top-level comments with all their approved replies.
/// A reply whose parent is not approved is not shown.
pub fn threads(conn: &mut Db, article_id: i64, page: Page) -> Result<List<PublicComment>, ApiError> {
    let top = comments::table
        .filter(comments::article_id.eq(article_id))
        .filter(comments::status.eq(CommentStatus::Approved.as_str()))
        .filter(comments::parent_id.is_null());
    let total: i64 = top.count().get_result(conn)?;
    type PublicRow = (
        i64,
        Option<i64>,
        String,
        String,
        String,
        chrono::NaiveDateTime,
        bool,
    );
    let columns = (
        comments::id,
        comments::parent_id,
        comments::name,
        comments::title,
        comments::content,
        comments::created_at,
        comments::is_staff,
    );
    // Most articles have no approved comment: the count then answers alone, one statement
    // instead of two.
    let roots: Vec<PublicRow> = if page.offset() >= total {
        Vec::new()
    } else {
        top.order((comments::created_at.asc(), comments::id.asc()))
            .limit(page.per_page)
            .offset(page.offset())
            .select(columns)
            .load(conn)?
    };
    let root_ids: Vec<i64> = roots.iter().map(|r| r.0).collect();
    let replies: Vec<PublicRow> = if root_ids.is_empty() {
        Vec::new()
    } else {
        comments::table
            .filter(comments::root_id.eq_any(&root_ids))
            .filter(comments::status.eq(CommentStatus::Approved.as_str()))
            .order((comments::created_at.asc(), comments::id.asc()))
            .select(columns)
            .load(conn)?
    };

    let node = |r: &PublicRow| PublicComment {
        id: r.0,
        name: r.2.clone(),
        title: r.3.clone(),
        content: r.4.clone(),
        created_at: r.5.and_utc(),
        is_staff: r.6,
        replies: Vec::new(),
    };
    // Children by parent, in order; then assembled from the roots down, so only replies
    // reachable through approved comments appear.
    let mut children: HashMap<i64, Vec<PublicComment>> = HashMap::new();
    for r in &replies {
        if let Some(parent) = r.1 {
            children.entry(parent).or_default().push(node(r));
        }
    }
    fn attach(c: &mut PublicComment, children: &mut HashMap<i64, Vec<PublicComment>>) {
        if let Some(mut kids) = children.remove(&c.id) {
            for kid in &mut kids {
                attach(kid, children);
            }
            c.replies = kids;
        }
    }
    let data = roots
        .iter()
        .map(|r| {
            let mut c = node(r);
            attach(&mut c, &mut children);
            c
        })
        .collect();
    Ok(page.list(data, total))
}
