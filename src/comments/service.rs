//! What the comment handlers ask for: each operation checks who may do it and what was sent,
//! then hands over to the module that does the job (`submit`, `threads`, `desk`,
//! `moderation`, `reply`).

use chrono::Utc;

use super::captcha::{self, Refusal};
pub use super::desk::DeskFilter;
use super::dto::{
    BulkModerationInput, BulkOutcome, CommentDetail, CommentInput, ModerationInput, StaffReplyInput,
};
use super::moderation::BULK_MAX;
use super::spam;
use super::submit::{Submission, submit};
pub use super::threads::threads;
use super::validate::{clean_user_agent, validate_form, validate_note};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action};
use crate::db::Db;
use crate::envelope::{List, PageQuery};
use crate::error::{ApiError, FieldError};
use crate::i18n::{Code, FieldCode};

/// A reader's comment through the captcha and the spam signals into the database (through
/// the batch writer when it runs). Returns the new comment's id.
pub async fn receive(
    state: &AppState,
    slug: String,
    input: CommentInput,
    client_hash: String,
    user_agent: Option<&str>,
) -> Result<i64, ApiError> {
    let (form, mut errors) = validate_form(&input);

    let mut admitted = None;
    if state.config.captcha {
        let key = state.secrets.captcha_key.as_bytes();
        let token = input.captcha_token.as_deref().filter(|t| !t.is_empty());
        let answer = input.captcha_answer.as_deref().filter(|a| !a.trim().is_empty());
        match (token, answer) {
            (Some(token), Some(answer)) => match captcha::authenticate(key, token, Utc::now()) {
                Err(refusal) => errors.push(refusal.field_error()),
                Ok(authentic) if authentic.answered_by(key, answer) => admitted = Some(authentic),
                Ok(authentic) => {
                    errors.push(Refusal::Wrong.field_error());
                    state.db.run(move |conn| captcha::burn(conn, &authentic)).await?;
                }
            },
            _ => errors.push(Refusal::Missing.field_error()),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    let honeypot = input.website.as_deref().is_some_and(|w| !w.trim().is_empty());
    let verdict = spam::judge(
        honeypot,
        &form.folded,
        &[&form.name, &form.title, &form.content],
        &state.config.comment_spam_words,
        state.config.comment_max_links,
    );
    let submission = Submission {
        form,
        verdict,
        client_hash,
        user_agent: clean_user_agent(user_agent),
        captcha: admitted,
        rate_per_min: state.config.comment_rate_per_min,
    };
    match &state.comment_writer {
        Some(writer) => writer.submit(slug, submission).await,
        None => state.db.write(move |conn| submit(conn, &slug, submission)).await,
    }
}

/// The moderation desk: comments newest first, with every detail.
pub fn desk(
    conn: &mut Db,
    user: &AuthUser,
    filter: &DeskFilter,
    page: PageQuery,
) -> Result<List<CommentDetail>, ApiError> {
    policy::require(user, Action::ModerateComments)?;
    let page = page.resolve()?;
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from > to
    {
        return Err(ApiError::bad_request(Code::QueryRangeReversed));
    }
    let (items, total) = super::desk::desk(conn, filter, page)?;
    Ok(page.list(items, total))
}

pub fn detail(conn: &mut Db, user: &AuthUser, id: i64) -> Result<CommentDetail, ApiError> {
    policy::require(user, Action::ModerateComments)?;
    super::desk::detail(conn, id)
}

pub fn moderate(
    conn: &mut Db,
    user: &AuthUser,
    id: i64,
    input: ModerationInput,
) -> Result<CommentDetail, ApiError> {
    policy::require(user, Action::ModerateComments)?;
    let note = validate_note(input.note.as_deref())?;
    super::moderation::moderate(conn, user, id, input.status, note)
}

pub fn moderate_many(
    conn: &mut Db,
    user: &AuthUser,
    input: BulkModerationInput,
) -> Result<Vec<BulkOutcome>, ApiError> {
    policy::require(user, Action::ModerateComments)?;
    if input.ids.is_empty() || input.ids.len() > BULK_MAX {
        return Err(ApiError::invalid(
            FieldError::new("ids", FieldCode::OutOfRange)
                .arg("min", 1i64)
                .arg("max", BULK_MAX),
        ));
    }
    let note = validate_note(input.note.as_deref())?;
    super::moderation::moderate_many(conn, user, &input.ids, input.status, note)
}

pub fn delete(conn: &mut Db, user: &AuthUser, id: i64) -> Result<(), ApiError> {
    policy::require(user, Action::ModerateComments)?;
    super::moderation::delete(conn, user, id)
}

pub fn staff_reply(
    conn: &mut Db,
    user: &AuthUser,
    article_id: i64,
    input: StaffReplyInput,
    client_hash: String,
) -> Result<CommentDetail, ApiError> {
    policy::require(user, Action::ModerateComments)?;
    super::reply::staff_reply(conn, user, article_id, input, client_hash)
}
