//! Signed, durable webhooks.
//!
//! A change that subscribers hear of calls [`emit`] inside its own transaction: the event is
//! written to the outbox (`webhook_events`) with one delivery per subscribed webhook, so it
//! exists exactly when the change does. The delivery worker ([`worker`]) sends it after the
//! commit: woken at once by the process that wrote it (an after-commit effect, see
//! [`wake_on_commit`]), and every
//! `NEWSDESK_SCHEDULER_INTERVAL` seconds by every process, so a delivery whose process died
//! before sending it is sent by the next one that runs.

pub mod dto;
pub mod model;
pub mod routes;
pub mod service;
pub mod target;
pub mod worker;

use std::sync::Arc;

use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::{webhook_deliveries, webhook_events, webhooks};
use crate::db::{Database, Db, now};

/// What a webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub enum Event {
    /// An article became public: published now, or its scheduled time came.
    #[serde(rename = "article.published")]
    ArticlePublished,
    /// A public article's content changed (an edit or a restored revision).
    #[serde(rename = "article.updated")]
    ArticleUpdated,
    /// A public article stopped being public: unpublished or archived.
    #[serde(rename = "article.unpublished")]
    ArticleUnpublished,
    /// A reader sent a comment (pending moderation), or staff replied.
    #[serde(rename = "comment.created")]
    CommentCreated,
    /// A comment became visible: approved by a moderator, or a staff reply.
    #[serde(rename = "comment.approved")]
    CommentApproved,
    /// A file was added to the media library.
    #[serde(rename = "media.created")]
    MediaCreated,
    /// A file was deleted from the media library.
    #[serde(rename = "media.deleted")]
    MediaDeleted,
}

impl Event {
    pub const ALL: [Event; 7] = [
        Event::ArticlePublished,
        Event::ArticleUpdated,
        Event::ArticleUnpublished,
        Event::CommentCreated,
        Event::CommentApproved,
        Event::MediaCreated,
        Event::MediaDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::ArticlePublished => "article.published",
            Event::ArticleUpdated => "article.updated",
            Event::ArticleUnpublished => "article.unpublished",
            Event::CommentCreated => "comment.created",
            Event::CommentApproved => "comment.approved",
            Event::MediaCreated => "media.created",
            Event::MediaDeleted => "media.deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// The effect of a write that made deliveries due.
struct Written;

/// Records that the current transaction makes deliveries due, so the worker is woken once it
/// has committed.
pub(crate) fn written(conn: &mut Db) {
    crate::db::effects::record(conn, Written);
}

/// Wakes `outbox` after every call of `db` that committed deliveries, so the worker finds
/// them there.
pub fn wake_on_commit(db: &Database, outbox: Arc<tokio::sync::Notify>) {
    db.on_commit(move |_: Vec<Written>| outbox.notify_one());
}

/// The body every subscriber receives, signed as serialised.
#[derive(serde::Serialize)]
struct Body<'a> {
    event: &'static str,
    #[serde(serialize_with = "crate::time::rfc3339")]
    occurred_at: chrono::DateTime<chrono::Utc>,
    data: &'a Value,
}

/// Whether an active webhook takes `event`: a caller whose event data costs queries (the
/// importer, for thousands of articles) asks first.
pub fn subscribed(conn: &mut Db, event: Event) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        webhooks::table
            .filter(webhooks::active.eq(true))
            .filter(webhooks::events.like(format!("%,{},%", event.as_str()))),
    ))
    .get_result(conn)
}

/// Records `event` for every active webhook subscribed to it, once per item of `data`. Call
/// it inside the transaction of the change. Without subscribers it writes nothing.
pub fn emit(conn: &mut Db, event: Event, data: &[Value]) -> QueryResult<()> {
    if data.is_empty() {
        return Ok(());
    }
    let subscribers: Vec<i64> = webhooks::table
        .filter(webhooks::active.eq(true))
        .filter(webhooks::events.like(format!("%,{},%", event.as_str())))
        .select(webhooks::id)
        .order(webhooks::id)
        .load(conn)?;
    if subscribers.is_empty() {
        return Ok(());
    }
    let at = now();
    let payloads = data
        .iter()
        .map(|item| {
            serde_json::to_string(&Body {
                event: event.as_str(),
                occurred_at: at.and_utc(),
                data: item,
            })
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
        })
        .collect::<QueryResult<Vec<String>>>()?;
    let event_row = |payload: &String| {
        (
            webhook_events::event.eq(event.as_str()),
            webhook_events::payload.eq(payload.clone()),
            webhook_events::created_at.eq(at),
        )
    };
    let delivery_row = |webhook: i64, event_id: i64| {
        (
            webhook_deliveries::webhook_id.eq(webhook),
            webhook_deliveries::event_id.eq(event_id),
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(at),
            webhook_deliveries::created_at.eq(at),
            webhook_deliveries::updated_at.eq(at),
        )
    };
    match conn {
        // A batch of comments announces many events at once: a few multi-row statements
        // instead of two per event (chunked to stay far below PostgreSQL's 65,535 parameters).
        Db::Pg(pg) => {
            for chunk in payloads.chunks(1000) {
                let rows: Vec<_> = chunk.iter().map(event_row).collect();
                let ids: Vec<i64> = diesel::insert_into(webhook_events::table)
                    .values(&rows)
                    .returning(webhook_events::id)
                    .get_results(pg)?;
                let deliveries: Vec<_> = ids
                    .iter()
                    .flat_map(|id| subscribers.iter().map(|w| delivery_row(*w, *id)))
                    .collect();
                for part in deliveries.chunks(1000) {
                    diesel::insert_into(webhook_deliveries::table)
                        .values(part)
                        .execute(pg)?;
                }
            }
        }
        Db::Sqlite(sqlite) => {
            for payload in &payloads {
                let id: i64 = diesel::insert_into(webhook_events::table)
                    .values(event_row(payload))
                    .returning(webhook_events::id)
                    .get_result(sqlite)?;
                for webhook in &subscribers {
                    diesel::insert_into(webhook_deliveries::table)
                        .values(delivery_row(*webhook, id))
                        .execute(sqlite)?;
                }
            }
        }
    }
    written(conn);
    Ok(())
}
