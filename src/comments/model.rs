//! Comment rows as stored, and the closed sets their text columns hold.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{comment_moderations, comments};
use crate::error::ApiError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub root_id: Option<i64>,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub title: String,
    pub content: String,
    pub status: String,
    pub is_staff: bool,
    pub author_id: Option<i64>,
    pub client_hash: String,
    pub user_agent: Option<String>,
    pub flags: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl CommentRow {
    pub fn status(&self) -> Result<CommentStatus, ApiError> {
        CommentStatus::from_stored(&self.status)
    }
}

/// Where a comment stands. Only `approved` comments are public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommentStatus {
    Pending,
    Approved,
    Rejected,
    Spam,
}

impl CommentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommentStatus::Pending => "pending",
            CommentStatus::Approved => "approved",
            CommentStatus::Rejected => "rejected",
            CommentStatus::Spam => "spam",
        }
    }

    pub fn parse(s: &str) -> Option<CommentStatus> {
        [Self::Pending, Self::Approved, Self::Rejected, Self::Spam]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// A status read from the database. The column's CHECK constraint allows only the four
    /// names, so anything else is a broken database, not a client's mistake.
    pub fn from_stored(raw: &str) -> Result<CommentStatus, ApiError> {
        CommentStatus::parse(raw).ok_or_else(|| ApiError::internal(format!("unknown comment status `{raw}`")))
    }

    /// The moderation moves a moderator may make: pending → approved, rejected or spam;
    /// approved → rejected or spam (taking it down); spam → pending (a false alarm).
    pub fn may_become(self, to: CommentStatus) -> bool {
        use CommentStatus::*;
        matches!(
            (self, to),
            (Pending, Approved | Rejected | Spam) | (Approved, Rejected | Spam) | (Spam, Pending)
        )
    }
}

/// A comment inserted with all its values known up front (a staff reply); public
/// submissions insert from a SELECT on the article instead, see `submit`.
#[derive(Debug, Insertable)]
#[diesel(table_name = comments)]
pub struct NewComment<'a> {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub root_id: Option<i64>,
    pub name: &'a str,
    pub title: &'a str,
    pub content: &'a str,
    pub status: &'static str,
    pub is_staff: bool,
    pub author_id: Option<i64>,
    pub client_hash: &'a str,
    pub content_hash: &'a str,
    pub search_text: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// One line of a comment's moderation history.
#[derive(Debug, Insertable)]
#[diesel(table_name = comment_moderations)]
pub struct NewModeration {
    pub comment_id: i64,
    pub from_status: Option<&'static str>,
    pub to_status: &'static str,
    pub moderator_id: Option<i64>,
    pub note: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}
