//! The editorial workflow: submitting, publishing or scheduling, unpublishing, archiving,
//! and publishing what is due. Each move is checked against the state the row is in.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::dto::EditorialArticle;
use super::editorial::{event_data, find_row, load_for, reload};
use super::model::ArticleState;
use crate::audit::{Entry, Resource};
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action};
use crate::cache::{self, Scope};
use crate::db::schema::articles;
use crate::db::{Db, now};
use crate::error::ApiError;
use crate::i18n::{Code, Msg};
use crate::media::links::Links;
use crate::webhooks::{self, Event};

/// One workflow move: the states it may start from, the state it goes to, the publication
/// times it leaves on the row, and who asks for it, as the audit log names them.
struct Move<'a> {
    from: &'a [ArticleState],
    to: ArticleState,
    publish_at: Option<NaiveDateTime>,
    published_at: Option<NaiveDateTime>,
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
        actor: Some(user.id),
        action: "article.submit",
    };
    transition(conn, links, id, step)
}

/// Publishes now, or schedules when `publish_at` is in the future.
pub fn publish(
    conn: &mut Db,
    user: &AuthUser,
    links: &Links,
    id: i64,
    publish_at: Option<DateTime<Utc>>,
) -> Result<EditorialArticle, ApiError> {
    let (_, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::PublishArticle(facts))?;
    let at = now();
    let from = [
        ArticleState::Draft,
        ArticleState::InReview,
        ArticleState::Scheduled,
    ];
    match publish_at.map(|t| t.naive_utc()) {
        Some(when) if when > at => {
            let step = Move {
                from: &from,
                to: ArticleState::Scheduled,
                publish_at: Some(crate::db::truncate(when)),
                published_at: None,
                actor: Some(user.id),
                action: "article.schedule",
            };
            transition(conn, links, id, step)
        }
        _ => {
            let step = Move {
                from: &from,
                to: ArticleState::Published,
                publish_at: None,
                published_at: Some(at),
                actor: Some(user.id),
                action: "article.publish",
            };
            transition(conn, links, id, step)
        }
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
        actor: Some(user.id),
        action: "article.unpublish",
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
