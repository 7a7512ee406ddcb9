//! Request and response bodies for comments, the captcha and the moderation desk.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::CommentStatus;

/// `GET /captcha`: a fresh code. Each call draws a new one ("get a new code").
#[derive(Debug, Serialize, ToSchema)]
pub struct CaptchaChallenge {
    /// Send back as `captcha_token` with the comment; it verifies once.
    pub captcha_token: String,
    /// The picture to show, as a data URL.
    #[schema(example = "data:image/png;base64,iVBORw0KGgo...")]
    pub image: String,
    /// Seconds until the code expires.
    #[schema(example = 600)]
    pub expires_in: i64,
}

/// `POST /articles/{slug}/comments`: the public comment form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    /// Full name, 1–100 characters after trimming.
    #[schema(example = "Nguyễn Văn An", min_length = 1, max_length = 100)]
    pub name: String,
    /// Optional; Vietnamese (`0912345678`) or international (`+84912345678`) form; spaces, dots
    /// and hyphens are ignored. Seen by moderators only.
    #[schema(example = "0912345678", max_length = 30)]
    pub phone: Option<String>,
    /// Optional. Seen by moderators only.
    #[schema(example = "an.nguyen@example.vn", max_length = 254)]
    pub email: Option<String>,
    #[schema(example = "Góp ý về thủ tục hành chính", min_length = 1, max_length = 200)]
    pub title: String,
    /// Plain text, 1–5000 characters; shown as text, never as HTML.
    #[schema(min_length = 1, max_length = 5000)]
    pub content: String,
    /// Answer to this approved comment of the same article.
    pub parent_id: Option<i64>,
    /// From `GET /captcha`; required unless the server runs with `NEWSDESK_CAPTCHA=off`.
    pub captcha_token: Option<String>,
    /// The code in the picture, in any case.
    #[schema(example = "K7M2P")]
    pub captcha_answer: Option<String>,
    /// Leave empty: a field hidden from people, which only robots fill in.
    pub website: Option<String>,
}

/// The answer to a submitted comment: always `pending`, whatever happens to it next.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub id: i64,
    #[schema(example = "pending")]
    pub status: CommentStatus,
}

/// A published comment as readers see it. Never carries phone, email or address.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct PublicComment {
    pub id: i64,
    pub name: String,
    pub title: String,
    /// Plain text; escape it when rendering.
    pub content: String,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// Written by the newsroom.
    pub is_staff: bool,
    /// Approved answers, oldest first, themselves threaded.
    #[schema(no_recursion)]
    pub replies: Vec<PublicComment>,
}

/// The article a comment belongs to, in the desk.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentArticle {
    pub id: i64,
    pub slug: String,
    pub title: String,
}

/// Who moderated.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Moderator {
    pub id: i64,
    pub name: String,
}

/// One status change of a comment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModerationEntry {
    /// Null for the status a comment was created with.
    #[schema(required)]
    pub from: Option<CommentStatus>,
    pub to: CommentStatus,
    /// Null for automatic decisions (spam signals at submission).
    #[schema(required)]
    pub moderator: Option<Moderator>,
    #[schema(required)]
    pub note: Option<String>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub at: DateTime<Utc>,
}

/// A comment with everything moderators may see.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentDetail {
    pub id: i64,
    pub article: CommentArticle,
    #[schema(required)]
    pub parent_id: Option<i64>,
    pub name: String,
    #[schema(required)]
    pub phone: Option<String>,
    #[schema(required)]
    pub email: Option<String>,
    pub title: String,
    pub content: String,
    pub status: CommentStatus,
    pub is_staff: bool,
    /// The staff account that wrote a staff reply.
    #[schema(required)]
    pub author_id: Option<i64>,
    /// A keyed hash of the sender's address: equal for the same client, useless for finding
    /// the address.
    pub client_hash: String,
    #[schema(required)]
    pub user_agent: Option<String>,
    /// Spam signals seen at submission: `honeypot`, `word:…`, `links:N`.
    pub flags: Vec<String>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// Every status change, oldest first.
    pub history: Vec<ModerationEntry>,
}

/// `PATCH /admin/comments/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationInput {
    pub status: CommentStatus,
    /// Why; kept in the history.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// `POST /admin/comments/moderate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkModerationInput {
    /// 1 to 100 comment ids.
    #[schema(min_items = 1, max_items = 100)]
    pub ids: Vec<i64>,
    pub status: CommentStatus,
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// What happened to one comment of a bulk moderation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkResult {
    Updated,
    /// The comment's status does not allow the move; nothing changed.
    Conflict,
    NotFound,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkOutcome {
    pub id: i64,
    pub result: BulkResult,
    /// The comment's status afterwards; null when it does not exist.
    #[schema(required)]
    pub status: Option<CommentStatus>,
    /// Why the comment was left as it is (`comment.not_found`, `comment.illegal_transition`).
    #[schema(required)]
    pub code: Option<crate::i18n::Code>,
    /// The same, for a human, in the language of `Content-Language`.
    #[schema(required)]
    pub detail: Option<String>,
}

/// `POST /admin/articles/{id}/comments`: a reply from the newsroom, approved at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffReplyInput {
    #[schema(example = "Ban biên tập trả lời", min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(min_length = 1, max_length = 5000)]
    pub content: String,
    /// The approved comment of this article being answered; absent for a top-level comment.
    pub parent_id: Option<i64>,
}

/// A comment as webhook subscribers receive it (`data` of `comment.created` and
/// `comment.approved`): what a reader could see, never the phone, email, client hash or user
/// agent.
pub struct CommentEvent<'a> {
    pub id: i64,
    pub article_id: i64,
    pub article_slug: &'a str,
    pub parent_id: Option<i64>,
    pub status: CommentStatus,
    pub is_staff: bool,
    pub name: &'a str,
    pub title: &'a str,
    pub content: &'a str,
    pub created_at: chrono::NaiveDateTime,
}

impl CommentEvent<'_> {
    pub fn data(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "article_id": self.article_id,
            "article_slug": self.article_slug,
            "parent_id": self.parent_id,
            "status": self.status.as_str(),
            "is_staff": self.is_staff,
            "name": self.name,
            "title": self.title,
            "content": self.content,
            "created_at": crate::time::format(&self.created_at.and_utc()),
        })
    }
}
