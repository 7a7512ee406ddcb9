//! A reader's comment, from the form to the database: the captcha, spam signals, the reply
//! rule, the rate limit and the duplicate check.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};

use super::captcha::{self, Authentic};
use super::dto::CommentEvent;
use super::model::CommentStatus;
use super::moderation::record;
use super::spam::Verdict;
use super::validate::CleanForm;
use crate::articles::published::{live_at, published_article};
use crate::db::schema::{articles, comments};
use crate::db::{Db, now};
use crate::error::ApiError;
use crate::i18n::{Code, FieldCode};
use crate::text;
use crate::webhooks::{self, Event};

/// The same text from the same client within this window is a duplicate.
pub const DUPLICATE_WINDOW_SECS: i64 = 600;
/// `NEWSDESK_COMMENT_RATE_PER_MIN` counts over this window.
pub const RATE_WINDOW_SECS: i64 = 60;

/// A public comment that passed validation and the captcha's signature and answer checks.
pub struct Submission {
    pub form: CleanForm,
    pub verdict: Verdict,
    pub client_hash: String,
    pub user_agent: Option<String>,
    /// The captcha to spend with the comment; `None` when the captcha is off.
    pub captcha: Option<Authentic>,
    /// `NEWSDESK_COMMENT_RATE_PER_MIN`; 0 is no limit.
    pub rate_per_min: u32,
}

impl Submission {
    /// What it is stored as: never approved; spam when a signal said so.
    pub fn status(&self) -> CommentStatus {
        if self.verdict.spam {
            CommentStatus::Spam
        } else {
            CommentStatus::Pending
        }
    }

    /// The spam signals seen, as stored.
    pub fn flags(&self) -> Option<String> {
        (!self.verdict.flags.is_empty()).then(|| self.verdict.flags.join(","))
    }
}

pub fn duplicate_comment() -> ApiError {
    ApiError::conflict(Code::CommentDuplicate)
}

pub fn closed() -> ApiError {
    ApiError::conflict(Code::CommentsClosed)
}

/// The root of the thread a reply joins; the parent must be an approved comment of the
/// same article.
pub(super) fn thread_root(conn: &mut Db, article_id: i64, parent_id: i64) -> Result<i64, ApiError> {
    let parent: Option<ParentFacts> = comments::table
        .find(parent_id)
        .select((comments::article_id, comments::status, comments::root_id))
        .first(conn)
        .optional()?;
    root_of_reply(article_id, parent_id, parent.as_ref())
}

/// A parent comment as the reply rule needs it: `(article_id, status, root_id)`.
pub type ParentFacts = (i64, String, Option<i64>);

/// The thread a reply to `parent_id` joins, or 422 unless the parent is an approved comment
/// of the same article.
pub fn root_of_reply(article_id: i64, parent_id: i64, parent: Option<&ParentFacts>) -> Result<i64, ApiError> {
    match parent {
        Some((article, status, root))
            if *article == article_id && status == CommentStatus::Approved.as_str() =>
        {
            Ok(root.unwrap_or(parent_id))
        }
        _ => Err(ApiError::validation("parent_id", FieldCode::ParentInvalid)),
    }
}

/// 429 until the oldest of a client's comments in the rate window ages out of it.
pub fn rate_limited(oldest: chrono::NaiveDateTime, at: chrono::NaiveDateTime) -> ApiError {
    ApiError::too_many_until(
        Code::CommentRateLimited,
        oldest + chrono::Duration::seconds(RATE_WINDOW_SECS),
        at,
    )
}

/// Stores a public comment, pending or spam. In one transaction: the insert, the rate limit
/// and duplicate checks (which count the new row, so concurrent submissions of one client
/// cannot all slip under the limit), and spending the captcha. Any refusal rolls it all back.
pub fn submit(conn: &mut Db, slug: &str, sub: Submission) -> Result<i64, ApiError> {
    if !text::is_valid_slug(slug) {
        return Err(ApiError::not_found(Code::ArticleNotFound));
    }
    // A reply needs its article first, to check the parent; a top-level comment finds its
    // article inside the insert, which spares a round trip on the busiest path.
    let root_id = match sub.form.parent_id {
        Some(parent) => {
            let (article_id, open) = published_article(conn, slug)?;
            if !open {
                return Err(closed());
            }
            Some(thread_root(conn, article_id, parent)?)
        }
        None => None,
    };
    let status = sub.status();
    let at = now();
    let hash = &sub.form.content_hash;
    let search = sub.form.search_text();
    let flags = sub.flags();
    conn.transaction::<_, ApiError, _>(|conn| {
        // One client's submissions take turns on PostgreSQL; on SQLite the insert below
        // takes the database's write lock, which does the same for everyone.
        crate::db::lock_subject(conn, &format!("comment:{}", sub.client_hash))?;
        // Not boxed: a fixed statement is prepared once per connection.
        let source = articles::table
            .filter(articles::slug.eq(slug))
            .filter(live_at(at))
            .filter(articles::comments_enabled.eq(true))
            .select((
                articles::id,
                sub.form.parent_id.into_sql::<Nullable<BigInt>>(),
                root_id.into_sql::<Nullable<BigInt>>(),
                sub.form.name.as_str().into_sql::<Text>(),
                sub.form.phone.as_deref().into_sql::<Nullable<Text>>(),
                sub.form.email.as_deref().into_sql::<Nullable<Text>>(),
                sub.form.title.as_str().into_sql::<Text>(),
                sub.form.content.as_str().into_sql::<Text>(),
                status.as_str().into_sql::<Text>(),
                false.into_sql::<Bool>(),
                sub.client_hash.as_str().into_sql::<Text>(),
                sub.user_agent.as_deref().into_sql::<Nullable<Text>>(),
                hash.as_str().into_sql::<Text>(),
                flags.as_deref().into_sql::<Nullable<Text>>(),
                search.as_str().into_sql::<Text>(),
                at.into_sql::<Timestamp>(),
                at.into_sql::<Timestamp>(),
            ));
        let inserted: Option<(i64, i64)> = diesel::insert_into(comments::table)
            .values(source)
            .into_columns((
                comments::article_id,
                comments::parent_id,
                comments::root_id,
                comments::name,
                comments::phone,
                comments::email,
                comments::title,
                comments::content,
                comments::status,
                comments::is_staff,
                comments::client_hash,
                comments::user_agent,
                comments::content_hash,
                comments::flags,
                comments::search_text,
                comments::created_at,
                comments::updated_at,
            ))
            .returning((comments::id, comments::article_id))
            .get_result(conn)
            .optional()?;
        let Some((id, article_id)) = inserted else {
            // Nothing inserted: say why, 404 or 409.
            return Err(match published_article(conn, slug) {
                Ok((_, false)) => closed(),
                Ok(_) => ApiError::conflict(Code::CommentArticleChanged),
                Err(e) => e,
            });
        };

        if sub.rate_per_min > 0 {
            // The new comment is among them, so more than the limit means refused.
            let recent: Vec<chrono::NaiveDateTime> = comments::table
                .filter(comments::client_hash.eq(&sub.client_hash))
                .filter(comments::created_at.gt(at - chrono::Duration::seconds(RATE_WINDOW_SECS)))
                .order(comments::created_at.asc())
                .select(comments::created_at)
                .limit(i64::from(sub.rate_per_min) + 1)
                .load(conn)?;
            if recent.len() > sub.rate_per_min as usize {
                return Err(rate_limited(recent.first().copied().unwrap_or(at), at));
            }
        }

        let duplicate = comments::table
            .filter(comments::content_hash.eq(hash))
            .filter(comments::client_hash.eq(&sub.client_hash))
            .filter(comments::created_at.gt(at - chrono::Duration::seconds(DUPLICATE_WINDOW_SECS)))
            .filter(comments::id.ne(id))
            .select(comments::id)
            .first::<i64>(conn)
            .optional()?;
        if duplicate.is_some() {
            return Err(duplicate_comment());
        }

        if let Some(token) = &sub.captcha
            && let Err(refusal) = captcha::spend(conn, token)?
        {
            return Err(refusal.error());
        }

        if status == CommentStatus::Spam {
            record(
                conn,
                id,
                None,
                CommentStatus::Spam,
                None,
                Some(sub.verdict.note()),
                at,
            )?;
        } else {
            // Subscribers hear of comments that wait for a moderator. Spam is kept only for
            // the desk to review; nobody outside acts on it, and a spam comment a moderator
            // approves is announced then, as `comment.approved`.
            let event = CommentEvent {
                id,
                article_id,
                article_slug: slug,
                parent_id: sub.form.parent_id,
                status,
                is_staff: false,
                name: &sub.form.name,
                title: &sub.form.title,
                content: &sub.form.content,
                created_at: at,
            };
            webhooks::emit(conn, Event::CommentCreated, &[event.data()])?;
        }
        Ok(id)
    })
}
