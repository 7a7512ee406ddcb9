//! The audit log: who did what to which resource, and when.
//!
//! Every editorial, moderation, account and webhook action, and every sign-in attempt, appends
//! one row with [`Entry::record`] inside the transaction of the action itself: an action that
//! rolls back leaves no record, and a recorded action cannot be lost.

pub mod dto;
pub mod routes;
pub mod service;

use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::audit_log;
use crate::db::{Db, now};

/// The kinds of resource an action applies to, as stored in `resource_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Article,
    Comment,
    Account,
    Session,
    Category,
    Tag,
    Webhook,
    Media,
}

impl Resource {
    pub const ALL: [Resource; 8] = [
        Resource::Article,
        Resource::Comment,
        Resource::Account,
        Resource::Session,
        Resource::Category,
        Resource::Tag,
        Resource::Webhook,
        Resource::Media,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Article => "article",
            Resource::Comment => "comment",
            Resource::Account => "account",
            Resource::Session => "session",
            Resource::Category => "category",
            Resource::Tag => "tag",
            Resource::Webhook => "webhook",
            Resource::Media => "media",
        }
    }

    pub fn parse(s: &str) -> Option<Resource> {
        Resource::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One line of the audit log, built by the action and written in its transaction.
///
/// Actions are named `<resource>.<verb>` (`article.publish`, `comment.moderate`,
/// `session.login_failed`); `actor` is `None` for what the system did by itself (scheduled
/// publishing) and for sign-ins with an unknown email.
#[derive(Debug, Clone)]
pub struct Entry {
    actor: Option<i64>,
    action: &'static str,
    resource: Resource,
    resource_id: Option<i64>,
    client_hash: Option<String>,
    detail: Option<Value>,
}

impl Entry {
    pub fn new(
        actor: Option<i64>,
        action: &'static str,
        resource: Resource,
        resource_id: Option<i64>,
    ) -> Self {
        Entry {
            actor,
            action,
            resource,
            resource_id,
            client_hash: None,
            detail: None,
        }
    }

    /// What the action changed, when its name alone does not say (`{"from": "pending", "to":
    /// "approved"}`). Never passwords, tokens, secrets or readers' contact details.
    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// The keyed hash of the client address (see [`crate::app::AppState::client_hash`]).
    pub fn client(mut self, client_hash: String) -> Self {
        self.client_hash = Some(client_hash);
        self
    }

    /// Appends the entry. Call it inside the transaction of the action.
    pub fn record(self, conn: &mut Db) -> QueryResult<()> {
        diesel::insert_into(audit_log::table)
            .values((
                audit_log::at.eq(now()),
                audit_log::actor_id.eq(self.actor),
                audit_log::action.eq(self.action),
                audit_log::resource_type.eq(self.resource.as_str()),
                audit_log::resource_id.eq(self.resource_id),
                audit_log::client_hash.eq(self.client_hash),
                audit_log::detail.eq(self.detail.map(|d| d.to_string())),
            ))
            .execute(conn)?;
        Ok(())
    }
}
