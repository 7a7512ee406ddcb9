//! The editorial workflow: submitting, publishing (now, backdated or scheduled),
//! unpublishing, archiving and un-archiving, and the scheduler's publishing and unpublishing
//! of what is due. Each move is checked against the state the row is in.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::dto::{EditorialArticle, PublishInput};
use super::editorial::{event_data, find_row, load_for, reload};
use super::model::ArticleState;
use crate::audit::{Entry, Resource};
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action};
use crate::cache::{self, Scope};
use crate::db::schema::articles;
use crate::db::{Db, now};
use crate::error::ApiError;
use crate::i18n::{Code, FieldCode, Msg};
use crate::media::links::Links;
use crate::webhooks::{self, Event};

/// One workflow move: the states it may start from, the state it goes to, the publication
/// times it leaves on the row, and who asks for it, as the audit log names them.
struct Move<'a> {
    from: &'a [ArticleState],
    to: ArticleState,
    publish_at: Option<NaiveDateTime>,
    published_at: Option<NaiveDateTime>,
    unpublish_at: Option<NaiveDateTime>,
    actor: Option<i64>,
    action: &'static str,
}

/// [`move_state`] in a transaction of its own, answering with the article as the move left
/// it, read before the commit.
fn transition(conn: &mut Db, links: &Links, id: i64, step: Move<'_>) -> Result<EditorialArticle, ApiError> {
    conn.transaction(|conn| {
        move_state(conn, id, step)?;
        reload(conn, links, id)
    })
}

/// Moves the article from one of `from` to `to`; anything else is a 409 naming the state it
/// is in. Reports the move to webhook subscribers when it changes what readers see, and to
/// the audit log. Call it inside a transaction.
fn move_state(conn: &mut Db, id: i64, step: Move<'_>) -> Result<(), ApiError> {
    let Move {
        from,
        to,
        publish_at,
        published_at,
        unpublish_at,
        actor,
        action,
    } = step;
    // Written first: the row stays locked (SQLite: the write lock is taken) until the
    // commit, so the state read next is the state moved from.
    let found = diesel::update(articles::table.find(id))
        .set(articles::version.eq(articles::version))
        .execute(conn)?;
    if found == 0 {
        return Err(ApiError::not_found(Code::ArticleNotFound));
    }
    let current = find_row(conn, id)?.state()?;
    if !from.contains(&current) {
        return Err(ApiError::Conflict(
            Msg::new(Code::ArticleIllegalTransition)
                .arg("from", current.as_str())
                .arg("to", to.as_str()),
        ));
    }
    diesel::update(articles::table.find(id))
        .set((
            articles::status.eq(to.as_str()),
            articles::publish_at.eq(publish_at),
            articles::published_at.eq(published_at),
            articles::unpublish_at.eq(unpublish_at),
            articles::was_public
                .eq(articles::was_public.or((to == ArticleState::Published).into_sql::<Bool>())),
            articles::updated_at.eq(now()),
        ))
        .execute(conn)?;
    let live = published_at.filter(|_| to == ArticleState::Published);
    crate::search::rekey(conn, id, live)?;
    let was_public = current == ArticleState::Published;
    let public = to == ArticleState::Published;
    if was_public || public {
        cache::changed(conn, Scope::Content)?;
        let data = event_data(conn, id)?;
        let event = if public {
            Event::ArticlePublished
        } else {
            Event::ArticleUnpublished
        };
        webhooks::emit(conn, event, &[data])?;
    }
    let mut detail = serde_json::json!({ "from": current, "to": to });
    if let Some(at) = publish_at {
        detail["publish_at"] = serde_json::json!(crate::time::format(&at.and_utc()));
    }
    if let Some(at) = published_at.filter(|_| public) {
        detail["published_at"] = serde_json::json!(crate::time::format(&at.and_utc()));
    }
    if let Some(at) = unpublish_at {
        detail["unpublish_at"] = serde_json::json!(crate::time::format(&at.and_utc()));
    }
    Entry::new(actor, action, Resource::Article, Some(id))
        .detail(detail)
        .record(conn)?;
    Ok(())
}

pub fn submit(conn: &mut Db, user: &AuthUser, links: &Links, id: i64) -> Result<EditorialArticle, ApiError> {
    let (row, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::EditArticle(facts))?;
    let step = Move {
        from: &[ArticleState::Draft],
        to: ArticleState::InReview,
        publish_at: None,
        published_at: row.published_at,
        unpublish_at: row.unpublish_at,
        actor: Some(user.id),
        action: "article.submit",
    };
    transition(conn, links, id, step)
}

/// Publishes now; or dated `publish_at` when that is past (backdating: it sorts into its
/// place among older articles); or schedules when it is in the future. `unpublish_at`,
/// or else the one the article already has, must fall after both now and the publication.
pub fn publish(
    conn: &mut Db,
    user: &AuthUser,
    links: &Links,
    id: i64,
    input: PublishInput,
) -> Result<EditorialArticle, ApiError> {
    let (row, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::PublishArticle(facts))?;
    let at = now();
    let from = [
        ArticleState::Draft,
        ArticleState::InReview,
        ArticleState::Scheduled,
    ];
    let when = input.publish_at.map(|t| crate::db::truncate(t.naive_utc()));
    let unpublish_at = input
        .unpublish_at
        .map(|t| crate::db::truncate(t.naive_utc()))
        .or(row.unpublish_at);
    check_unpublish_at(unpublish_at, when.unwrap_or(at).max(at))?;
    let step = match when {
        Some(when) if when > at => Move {
            from: &from,
            to: ArticleState::Scheduled,
            publish_at: Some(when),
            published_at: None,
            unpublish_at,
            actor: Some(user.id),
            action: "article.schedule",
        },
        _ => Move {
            from: &from,
            to: ArticleState::Published,
            publish_at: None,
            published_at: Some(when.unwrap_or(at)),
            unpublish_at,
            actor: Some(user.id),
            action: "article.publish",
        },
    };
    transition(conn, links, id, step)
}

/// An unpublication time is refused unless it falls after `after`: one at or before it would
/// take the article down as soon as it went up.
pub(super) fn check_unpublish_at(
    unpublish_at: Option<NaiveDateTime>,
    after: NaiveDateTime,
) -> Result<(), ApiError> {
    match unpublish_at {
        Some(t) if t <= after => Err(ApiError::validation("unpublish_at", FieldCode::AfterPublication)),
        _ => Ok(()),
    }
}

pub fn unpublish(
    conn: &mut Db,
    user: &AuthUser,
    links: &Links,
    id: i64,
) -> Result<EditorialArticle, ApiError> {
    let (_, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::PublishArticle(facts))?;
    let step = Move {
        from: &[ArticleState::Published, ArticleState::Scheduled],
        to: ArticleState::Draft,
        publish_at: None,
        published_at: None,
        unpublish_at: None,
        actor: Some(user.id),
        action: "article.unpublish",
    };
    transition(conn, links, id, step)
}

/// Brings an archived article back as a draft, to be edited and published again.
pub fn unarchive(
    conn: &mut Db,
    user: &AuthUser,
    links: &Links,
    id: i64,
) -> Result<EditorialArticle, ApiError> {
    load_for(conn, user, id)?;
    policy::require(user, Action::UnarchiveArticle)?;
    let step = Move {
        from: &[ArticleState::Archived],
        to: ArticleState::Draft,
        publish_at: None,
        published_at: None,
        unpublish_at: None,
        actor: Some(user.id),
        action: "article.unarchive",
    };
    transition(conn, links, id, step)
}

/// `DELETE`: archives. The article leaves every public list; its history stays.
pub fn archive(conn: &mut Db, user: &AuthUser, id: i64) -> Result<(), ApiError> {
    let (row, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::DeleteArticle(facts))?;
    let from = [
        ArticleState::Draft,
        ArticleState::InReview,
        ArticleState::Scheduled,
        ArticleState::Published,
    ];
    let step = Move {
        from: &from,
        to: ArticleState::Archived,
        publish_at: None,
        published_at: row.published_at,
        unpublish_at: None,
        actor: Some(user.id),
        action: "article.archive",
    };
    conn.transaction(|conn| move_state(conn, id, step))
}

/// Publishes every scheduled article that is due, in one statement: safe with any number of
/// processes, since each row can leave `scheduled` only once. Returns the ids published.
pub fn publish_due(conn: &mut Db) -> Result<Vec<i64>, ApiError> {
    let at = now();
    conn.transaction::<_, ApiError, _>(|conn| {
        let published = diesel::update(
            articles::table
                .filter(articles::status.eq(ArticleState::Scheduled.as_str()))
                .filter(articles::publish_at.le(at)),
        )
        .set((
            articles::status.eq(ArticleState::Published.as_str()),
            articles::published_at.eq(articles::publish_at),
            articles::was_public.eq(true),
            articles::updated_at.eq(at),
        ))
        .returning((articles::id, articles::published_at))
        .get_results::<(i64, Option<NaiveDateTime>)>(conn)?;
        let mut events = Vec::with_capacity(published.len());
        for (id, published_at) in &published {
            crate::search::rekey(conn, *id, *published_at)?;
            events.push(event_data(conn, *id)?);
            // No actor: the system did it, at the time an editor scheduled.
            Entry::new(None, "article.publish", Resource::Article, Some(*id))
                .detail(serde_json::json!({ "from": ArticleState::Scheduled, "to": ArticleState::Published }))
                .record(conn)?;
        }
        if !published.is_empty() {
            cache::changed(conn, Scope::Content)?;
        }
        webhooks::emit(conn, Event::ArticlePublished, &events)?;
        Ok(published.into_iter().map(|(id, _)| id).collect())
    })
}

/// Takes back to draft every published article whose `unpublish_at` has come, in one
/// statement, so with any number of processes each is unpublished once. Returns the ids.
pub fn unpublish_due(conn: &mut Db) -> Result<Vec<i64>, ApiError> {
    let at = now();
    conn.transaction::<_, ApiError, _>(|conn| {
        let due = diesel::update(
            articles::table
                .filter(articles::status.eq(ArticleState::Published.as_str()))
                .filter(articles::unpublish_at.le(at)),
        )
        .set((
            articles::status.eq(ArticleState::Draft.as_str()),
            articles::published_at.eq(None::<NaiveDateTime>),
            articles::unpublish_at.eq(None::<NaiveDateTime>),
            articles::updated_at.eq(at),
        ))
        .returning(articles::id)
        .get_results::<i64>(conn)?;
        let mut events = Vec::with_capacity(due.len());
        for id in &due {
            crate::search::rekey(conn, *id, None)?;
            events.push(event_data(conn, *id)?);
            Entry::new(None, "article.unpublish", Resource::Article, Some(*id))
                .detail(serde_json::json!({ "from": ArticleState::Published, "to": ArticleState::Draft }))
                .record(conn)?;
        }
        if !due.is_empty() {
            cache::changed(conn, Scope::Content)?;
        }
        webhooks::emit(conn, Event::ArticleUnpublished, &events)?;
        Ok(due)
    })
}
