//! Comments in the database: submission, the public threads, and moderation.
//!
//! `articles.comment_count` is the number of approved comments and is kept exact by the
//! transaction that changes a status, as a relative update. Every transaction that can move
//! a comment into or out of `approved` first locks the article's row (an UPDATE that changes
//! nothing), so moderations of one article take turns, always in the same lock order, and
//! read statuses that no one else is changing.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use super::captcha::{self, Authentic};
use super::dto::*;
use super::spam::Verdict;
use crate::articles::published::{live_at, published_article};
use crate::audit::{Entry, Resource};
use crate::db::schema::{articles, authors, comment_moderations, comments};
use crate::db::{Db, now};
use crate::envelope::{List, Page};
use crate::error::{ApiError, FieldError};
use crate::i18n::{self, Code, FieldCode, Msg};
use crate::text::{self, char_len, fold};
use crate::webhooks::{self, Event};

pub const NAME_MAX: usize = 100;
pub const TITLE_MAX: usize = 200;
pub const CONTENT_MAX: usize = 5000;
pub const NOTE_MAX: usize = 1000;
const EMAIL_MAX: usize = 254;
const USER_AGENT_MAX: usize = 512;
/// The same text from the same client within this window is a duplicate.
pub const DUPLICATE_WINDOW_SECS: i64 = 600;
/// `NEWSDESK_COMMENT_RATE_PER_MIN` counts over this window.
pub const RATE_WINDOW_SECS: i64 = 60;
/// Comments per bulk moderation.
pub const BULK_MAX: usize = 100;

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

fn status_of(raw: &str) -> Result<CommentStatus, ApiError> {
    CommentStatus::parse(raw).ok_or_else(|| ApiError::internal(format!("unknown comment status {raw:?}")))
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

// ---------------------------------------------------------------------------------------------
// Validation

/// The form after trimming, NFC normalisation and checks.
#[derive(Debug, Clone)]
pub struct CleanForm {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub title: String,
    pub content: String,
    pub parent_id: Option<i64>,
    /// Name, title and content folded (see [`fold`]), for spam words and search.
    pub folded: String,
    /// Identifies the content for the duplicate check, whatever its case, diacritics or
    /// punctuation.
    pub content_hash: String,
}

impl CleanForm {
    fn new(name: String, title: String, content: String, parent_id: Option<i64>) -> Self {
        let folded_content = fold(&content);
        let content_hash = hex::encode(Sha256::digest(folded_content.as_bytes()));
        let folded = [fold(&name), fold(&title), folded_content]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        CleanForm {
            name,
            phone: None,
            email: None,
            title,
            content,
            parent_id,
            folded,
            content_hash,
        }
    }

    /// What the desk's text search looks in.
    pub fn search_text(&self) -> String {
        let mut text = self.folded.clone();
        for extra in [&self.phone, &self.email].into_iter().flatten() {
            text.push(' ');
            text.push_str(&fold(extra));
        }
        text
    }
}

/// Trimmed, NFC, with Windows line ends made plain; checked for length in characters.
fn required_text(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let value = text::clean(&value.replace("\r\n", "\n"));
    if !text::storable(&value) {
        errors.push(FieldError::new(field, FieldCode::InvalidCharacter));
    } else {
        errors.extend(FieldError::length(field, char_len(&value), 1, max));
    }
    value
}

fn optional_text(value: Option<&str>) -> Option<String> {
    value.map(text::clean).filter(|v| !v.is_empty())
}

/// A phone number in Vietnamese national form (`0912345678`, landlines `02439...`) or
/// international form (`+84912345678`), with spaces, dots, hyphens and brackets ignored.
/// Returns the number without separators.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let (plus, digits) = match compact.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, compact.as_str()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ok = if plus {
        match digits.strip_prefix("84") {
            // Vietnam: the national number without its leading 0, 9 or 10 digits.
            Some(national) => (9..=10).contains(&national.len()) && !national.starts_with('0'),
            // E.164: a country code that does not start with 0, at most 15 digits in all.
            None => (8..=15).contains(&digits.len()) && !digits.starts_with('0'),
        }
    } else {
        // National: 0, then a 9-digit mobile or 10-digit landline number.
        digits.starts_with('0') && (10..=11).contains(&digits.len()) && !digits[1..].starts_with('0')
    };
    ok.then_some(compact)
}

pub fn validate_form(input: &CommentInput) -> (CleanForm, Vec<FieldError>) {
    let mut errors = Vec::new();
    let name = required_text("name", &input.name, NAME_MAX, &mut errors);
    let title = required_text("title", &input.title, TITLE_MAX, &mut errors);
    let content = required_text("content", &input.content, CONTENT_MAX, &mut errors);
    let phone = match optional_text(input.phone.as_deref()) {
        None => None,
        Some(raw) => match normalise_phone(&raw) {
            Some(p) => Some(p),
            None => {
                errors.push(FieldError::new("phone", FieldCode::InvalidPhone));
                None
            }
        },
    };
    let email = optional_text(input.email.as_deref());
    if let Some(e) = &email {
        let ok = e.len() <= EMAIL_MAX
            && text::storable(e)
            && email_address::EmailAddress::parse_with_options(e, Default::default()).is_ok();
        if !ok {
            errors.push(FieldError::new("email", FieldCode::InvalidEmail));
        }
    }
    if input.parent_id.is_some_and(|id| id <= 0) {
        errors.push(FieldError::new("parent_id", FieldCode::InvalidValue));
    }
    let mut form = CleanForm::new(name, title, content, input.parent_id);
    form.phone = phone;
    form.email = email;
    (form, errors)
}

pub fn validate_note(note: Option<&str>) -> Result<Option<String>, ApiError> {
    let note = optional_text(note);
    if let Some(n) = &note {
        if !text::storable(n) {
            return Err(ApiError::validation("note", FieldCode::InvalidCharacter));
        }
        if char_len(n) > NOTE_MAX {
            return Err(ApiError::invalid(
                FieldError::new("note", FieldCode::TooLong).arg("max", NOTE_MAX),
            ));
        }
    }
    Ok(note)
}

/// A user agent worth keeping: printable, and cut to a sane length.
pub fn clean_user_agent(raw: Option<&str>) -> Option<String> {
    let ua: String = raw?
        .chars()
        .filter(|c| !c.is_control())
        .take(USER_AGENT_MAX)
        .collect();
    Some(ua.trim().to_owned()).filter(|u| !u.is_empty())
}

// ---------------------------------------------------------------------------------------------
// Submission

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
fn thread_root(conn: &mut Db, article_id: i64, parent_id: i64) -> Result<i64, ApiError> {
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
        Some((article, status, root)) if *article == article_id && status == "approved" => {
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

fn record(
    conn: &mut Db,
    comment_id: i64,
    from: Option<CommentStatus>,
    to: CommentStatus,
    moderator: Option<i64>,
    note: Option<String>,
    at: chrono::NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(comment_moderations::table)
        .values((
            comment_moderations::comment_id.eq(comment_id),
            comment_moderations::from_status.eq(from.map(CommentStatus::as_str)),
            comment_moderations::to_status.eq(to.as_str()),
            comment_moderations::moderator_id.eq(moderator),
            comment_moderations::note.eq(note),
            comment_moderations::created_at.eq(at),
        ))
        .execute(conn)
}

// ---------------------------------------------------------------------------------------------
// Public threads

/// Approved comments of a published article, threaded, oldest first; a page holds
/// `per_page` top-level comments with all their approved replies. A reply whose parent is
/// not approved is not shown.
/// The approved threads of an article readers may see (found with `published_article`).
pub fn threads(conn: &mut Db, article_id: i64, page: Page) -> Result<List<PublicComment>, ApiError> {
    let top = comments::table
        .filter(comments::article_id.eq(article_id))
        .filter(comments::status.eq("approved"))
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
    let roots: Vec<PublicRow> = top
        .order((comments::created_at.asc(), comments::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(columns)
        .load(conn)?;
    let root_ids: Vec<i64> = roots.iter().map(|r| r.0).collect();
    let replies: Vec<PublicRow> = if root_ids.is_empty() {
        Vec::new()
    } else {
        comments::table
            .filter(comments::root_id.eq_any(&root_ids))
            .filter(comments::status.eq("approved"))
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

// ---------------------------------------------------------------------------------------------
// The moderation desk

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

fn like_pattern(folded: &str) -> String {
    let mut p = String::with_capacity(folded.len() + 2);
    p.push('%');
    for c in folded.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Comments for moderators, newest first, with every detail.
pub fn desk(conn: &mut Db, filter: &DeskFilter, page: Page) -> Result<(Vec<CommentDetail>, i64), ApiError> {
    let pattern = filter
        .q
        .as_deref()
        .map(fold)
        .filter(|q| !q.is_empty())
        .map(|q| like_pattern(&q));
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
            from: from.as_deref().map(status_of).transpose()?,
            to: status_of(&to)?,
            moderator: moderator_id
                .zip(moderator_name)
                .map(|(id, name)| Moderator { id, name }),
            note,
            at: at.and_utc(),
        });
    }
    rows.into_iter()
        .map(|r| {
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
                status: status_of(&r.status)?,
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

/// Takes the article's row lock: the first statement of every transaction that can change
/// its approved count. Returns false when the article is gone.
fn lock_article(conn: &mut Db, article_id: i64) -> QueryResult<bool> {
    let n = diesel::update(articles::table.find(article_id))
        .set(articles::comment_count.eq(articles::comment_count))
        .execute(conn)?;
    Ok(n == 1)
}

/// Every change to the set of approved comments passes here, so this is also where readers'
/// cached threads and counts are invalidated.
fn adjust_count(conn: &mut Db, article_id: i64, delta: i64) -> QueryResult<()> {
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
    let from = status_of(&current)?;
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
                status: status_of(&row.status)?,
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
    moderator: i64,
    id: i64,
    to: CommentStatus,
    note: Option<String>,
) -> Result<CommentDetail, ApiError> {
    let article_id = article_of(conn, id)?.ok_or_else(|| ApiError::not_found(Code::CommentNotFound))?;
    conn.transaction::<_, ApiError, _>(|conn| {
        lock_article(conn, article_id)?;
        match apply(conn, id, to, moderator, note)? {
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
    moderator: i64,
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
            let outcome = match apply(conn, id, to, moderator, note.clone())? {
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
pub fn delete(conn: &mut Db, moderator: i64, id: i64) -> Result<(), ApiError> {
    let article_id = article_of(conn, id)?.ok_or_else(|| ApiError::not_found(Code::CommentNotFound))?;
    conn.transaction::<_, ApiError, _>(|conn| {
        lock_article(conn, article_id)?;
        let status: String = comments::table
            .find(id)
            .select(comments::status)
            .first(conn)
            .optional()?
            .ok_or_else(|| ApiError::not_found(Code::CommentNotFound))?;
        let mut approved_gone = i64::from(status == "approved");
        let mut replies = 0;
        let mut level = vec![id];
        while !level.is_empty() {
            let below: Vec<(i64, String)> = comments::table
                .filter(comments::parent_id.eq_any(&level))
                .select((comments::id, comments::status))
                .load(conn)?;
            approved_gone += below.iter().filter(|(_, s)| s == "approved").count() as i64;
            replies += below.len();
            level = below.into_iter().map(|(id, _)| id).collect();
        }
        // The foreign keys cascade to the replies and the moderation history.
        diesel::delete(comments::table.find(id)).execute(conn)?;
        adjust_count(conn, article_id, -approved_gone)?;
        Entry::new(Some(moderator), "comment.delete", Resource::Comment, Some(id))
            .detail(serde_json::json!({
                "article_id": article_id,
                "status": status,
                "replies_deleted": replies,
            }))
            .record(conn)?;
        Ok(())
    })
}

/// A reply from the newsroom: approved at once, marked `is_staff`, signed with the staff
/// account's name. Staff may reply on any article that exists, even with comments closed.
pub fn staff_reply(
    conn: &mut Db,
    staff: i64,
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
    let name: String = authors::table.find(staff).select(authors::name).first(conn)?;
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
            .values((
                comments::article_id.eq(article_id),
                comments::parent_id.eq(form.parent_id),
                comments::root_id.eq(root_id),
                comments::name.eq(&form.name),
                comments::title.eq(&form.title),
                comments::content.eq(&form.content),
                comments::status.eq(CommentStatus::Approved.as_str()),
                comments::is_staff.eq(true),
                comments::author_id.eq(staff),
                comments::client_hash.eq(&client_hash),
                comments::content_hash.eq(&form.content_hash),
                comments::search_text.eq(form.search_text()),
                comments::created_at.eq(at),
                comments::updated_at.eq(at),
            ))
            .returning(comments::id)
            .get_result(conn)?;
        adjust_count(conn, article_id, 1)?;
        record(
            conn,
            id,
            None,
            CommentStatus::Approved,
            Some(staff),
            Some("staff reply".into()),
            at,
        )?;
        Entry::new(Some(staff), "comment.reply", Resource::Comment, Some(id))
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
