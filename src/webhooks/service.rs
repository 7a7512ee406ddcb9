//! Webhook subscriptions and their deliveries, for administrators.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Event;
use super::dto::{
    Attempt, ChangedWebhook, Delivery, DeliveryFilter, Webhook, WebhookInput, WebhookPatch, WebhookWithSecret,
};
use super::model::{DeliveryState, NewWebhook, WebhookChanges, WebhookRow};
use crate::app::AppState;
use crate::audit::{Entry, Resource};
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action};
use crate::db::schema::{webhook_attempts, webhook_deliveries, webhook_events, webhooks};
use crate::db::{Db, now};
use crate::envelope::{List, PageQuery};
use crate::error::{ApiError, FieldError};
use crate::i18n::{Code, FieldCode};

/// Shortest secret accepted: below this an HMAC key can be guessed offline from one
/// signed delivery.
pub const MIN_SECRET: usize = 16;
pub const MAX_SECRET: usize = 256;
pub const MAX_DESCRIPTION: usize = 500;

fn events_column(events: &[Event]) -> String {
    let mut names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    format!(",{},", names.join(","))
}

fn events_of(column: &str) -> Vec<Event> {
    column.split(',').filter_map(Event::parse).collect()
}

/// A new random secret: 32 bytes, hex.
fn generate_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("OS random generator: {e}")))?;
    Ok(hex::encode(bytes))
}

fn check_secret(secret: &str, errors: &mut Vec<FieldError>) {
    let n = secret.chars().count();
    if !(MIN_SECRET..=MAX_SECRET).contains(&n) {
        errors.extend(FieldError::length("secret", n, MIN_SECRET, MAX_SECRET));
    }
}

fn check_description(description: &str, errors: &mut Vec<FieldError>) {
    if description.chars().count() > MAX_DESCRIPTION {
        errors.push(FieldError::new("description", FieldCode::TooLong).arg("max", MAX_DESCRIPTION));
    }
}

fn check_events(events: &[Event], errors: &mut Vec<FieldError>) {
    if events.is_empty() {
        errors.push(FieldError::new("events", FieldCode::Required));
    }
}

/// A URL that passed [`super::target`]'s checks, which resolve names and so run before a
/// connection is taken.
pub struct CheckedUrl(pub String);

/// Checks the fields of an input or a patch that need no lookup; `None` is a field the
/// patch leaves as it is.
fn validate(
    url: Option<&str>,
    events: Option<&[Event]>,
    secret: Option<&str>,
    description: Option<&str>,
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Some(url) = url
        && let Err(e) = super::target::parse_url(url)
    {
        errors.push(e);
    }
    if let Some(events) = events {
        check_events(events, &mut errors);
    }
    if let Some(secret) = secret {
        check_secret(secret, &mut errors);
    }
    if let Some(d) = description {
        check_description(d, &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Refuses URLs that resolve to private or loopback addresses, unless allowed.
async fn checked(state: &AppState, raw: &str) -> Result<CheckedUrl, ApiError> {
    let url = super::target::parse_url(raw).map_err(ApiError::invalid)?;
    if let Some(address) = super::target::refused(&url, state.config.webhook_allow_private).await {
        return Err(ApiError::invalid(
            FieldError::new("url", FieldCode::PrivateTarget).arg("address", address),
        ));
    }
    Ok(CheckedUrl(url.to_string()))
}

fn find_row(conn: &mut Db, id: i64) -> Result<WebhookRow, ApiError> {
    webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::WebhookNotFound))
}

fn shown(conn: &mut Db, rows: Vec<WebhookRow>) -> QueryResult<Vec<Webhook>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let counts: Vec<(i64, String, i64)> = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq_any(&ids))
        .filter(webhook_deliveries::status.ne(DeliveryState::Delivered.as_str()))
        .group_by((webhook_deliveries::webhook_id, webhook_deliveries::status))
        .select((
            webhook_deliveries::webhook_id,
            webhook_deliveries::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let count = |id: i64, status: DeliveryState| {
        counts
            .iter()
            .find(|(w, s, _)| *w == id && s == status.as_str())
            .map_or(0, |(_, _, n)| *n)
    };
    Ok(rows
        .into_iter()
        .map(|r| Webhook {
            pending: count(r.id, DeliveryState::Pending),
            failed: count(r.id, DeliveryState::Failed),
            id: r.id,
            url: r.url,
            events: events_of(&r.events),
            description: r.description,
            active: r.active,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
        .collect())
}

fn one(conn: &mut Db, id: i64) -> Result<Webhook, ApiError> {
    let row = find_row(conn, id)?;
    shown(conn, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::not_found(Code::WebhookNotFound))
}

pub fn list(conn: &mut Db, user: &AuthUser, page: PageQuery) -> Result<List<Webhook>, ApiError> {
    policy::require(user, Action::ManageWebhooks)?;
    let page = page.resolve()?;
    let total: i64 = webhooks::table.count().get_result(conn)?;
    let rows = webhooks::table
        .order(webhooks::id)
        .limit(page.per_page)
        .offset(page.offset())
        .select(WebhookRow::as_select())
        .load(conn)?;
    Ok(page.list(shown(conn, rows)?, total))
}

pub fn get(conn: &mut Db, user: &AuthUser, id: i64) -> Result<Webhook, ApiError> {
    policy::require(user, Action::ManageWebhooks)?;
    one(conn, id)
}

/// Subscribes a URL, after checking the input and where the URL leads.
pub async fn create(
    state: &AppState,
    user: &AuthUser,
    input: WebhookInput,
) -> Result<WebhookWithSecret, ApiError> {
    policy::require(user, Action::ManageWebhooks)?;
    validate(
        Some(&input.url),
        Some(&input.events),
        input.secret.as_deref(),
        input.description.as_deref(),
    )?;
    let url = checked(state, &input.url).await?;
    let actor = user.id;
    state.db.run(move |conn| insert(conn, actor, url, input)).await
}

fn insert(
    conn: &mut Db,
    actor: i64,
    url: CheckedUrl,
    input: WebhookInput,
) -> Result<WebhookWithSecret, ApiError> {
    let secret = match input.secret {
        Some(s) => s,
        None => generate_secret()?,
    };
    let at = now();
    let events = events_column(&input.events);
    let description = input.description.filter(|d| !d.trim().is_empty());
    let webhook = conn.transaction::<_, ApiError, _>(|conn| {
        let id: i64 = diesel::insert_into(webhooks::table)
            .values(NewWebhook {
                url: &url.0,
                events: &events,
                secret: &secret,
                description: description.as_deref(),
                active: input.active.unwrap_or(true),
                created_by: actor,
                created_at: at,
                updated_at: at,
            })
            .returning(webhooks::id)
            .get_result(conn)?;
        Entry::new(Some(actor), "webhook.create", Resource::Webhook, Some(id))
            .detail(serde_json::json!({"url": url.0, "events": events_of(&events)}))
            .record(conn)?;
        one(conn, id)
    })?;
    Ok(WebhookWithSecret { webhook, secret })
}

/// Applies a patch, after checking it and where a new URL leads. Returns the webhook, with
/// the secret when the patch set one.
pub async fn update(
    state: &AppState,
    user: &AuthUser,
    id: i64,
    patch: WebhookPatch,
) -> Result<ChangedWebhook, ApiError> {
    policy::require(user, Action::ManageWebhooks)?;
    validate(
        patch.url.as_deref(),
        patch.events.as_deref(),
        patch.secret.as_deref(),
        patch.description.as_deref(),
    )?;
    let url = match &patch.url {
        Some(raw) => Some(checked(state, raw).await?),
        None => None,
    };
    let actor = user.id;
    state
        .db
        .run(move |conn| change(conn, actor, id, url, patch))
        .await
}

fn change(
    conn: &mut Db,
    actor: i64,
    id: i64,
    url: Option<CheckedUrl>,
    patch: WebhookPatch,
) -> Result<ChangedWebhook, ApiError> {
    let changes = WebhookChanges {
        url: url.as_ref().map(|u| u.0.as_str()),
        events: patch.events.as_deref().map(events_column),
        secret: patch.secret.as_deref(),
        description: patch
            .description
            .as_deref()
            .map(|d| Some(d).filter(|d| !d.trim().is_empty())),
        active: patch.active,
        updated_at: now(),
    };
    let changed: Vec<&str> = [
        ("url", changes.url.is_some()),
        ("events", changes.events.is_some()),
        ("secret", changes.secret.is_some()),
        ("description", changes.description.is_some()),
        ("activated", changes.active == Some(true)),
        ("deactivated", changes.active == Some(false)),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    conn.transaction::<_, ApiError, _>(|conn| {
        let found = diesel::update(webhooks::table.find(id))
            .set(&changes)
            .execute(conn)?;
        if found == 0 {
            return Err(ApiError::not_found(Code::WebhookNotFound));
        }
        Entry::new(Some(actor), "webhook.update", Resource::Webhook, Some(id))
            .detail(serde_json::json!({ "changed": changed }))
            .record(conn)?;
        one(conn, id)
    })
    .map(|webhook| ChangedWebhook {
        webhook,
        secret: patch.secret,
    })
}

/// Deletes the webhook with its deliveries, sent or not.
pub fn delete(conn: &mut Db, user: &AuthUser, id: i64) -> Result<(), ApiError> {
    policy::require(user, Action::ManageWebhooks)?;
    let actor = user.id;
    conn.transaction::<_, ApiError, _>(|conn| {
        let url: Option<String> = webhooks::table
            .find(id)
            .select(webhooks::url)
            .first(conn)
            .optional()?;
        let Some(url) = url else {
            return Err(ApiError::not_found(Code::WebhookNotFound));
        };
        diesel::delete(webhooks::table.find(id)).execute(conn)?;
        Entry::new(Some(actor), "webhook.delete", Resource::Webhook, Some(id))
            .detail(serde_json::json!({ "url": url }))
            .record(conn)?;
        Ok(())
    })
}

type DeliveryRow = (
    i64,
    String,
    String,
    i64,
    NaiveDateTime,
    Option<i64>,
    Option<String>,
    NaiveDateTime,
    Option<NaiveDateTime>,
    String,
);

type AttemptRow = (i64, NaiveDateTime, Option<i64>, Option<String>, i64);

/// A webhook's deliveries, newest first, each with its attempts.
pub fn deliveries(
    conn: &mut Db,
    user: &AuthUser,
    id: i64,
    filter: DeliveryFilter,
    page: PageQuery,
) -> Result<List<Delivery>, ApiError> {
    policy::require(user, Action::ManageWebhooks)?;
    let page = page.resolve()?;
    find_row(conn, id)?;
    let mut counted = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(id))
        .into_boxed();
    let mut query = webhook_deliveries::table
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::webhook_id.eq(id))
        .into_boxed();
    if let Some(status) = filter.status {
        counted = counted.filter(webhook_deliveries::status.eq(status.as_str()));
        query = query.filter(webhook_deliveries::status.eq(status.as_str()));
    }
    let total: i64 = counted.count().get_result(conn)?;
    let rows: Vec<DeliveryRow> = query
        .order(webhook_deliveries::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select((
            webhook_deliveries::id,
            webhook_events::event,
            webhook_deliveries::status,
            webhook_deliveries::attempts,
            webhook_deliveries::next_attempt_at,
            webhook_deliveries::last_status_code,
            webhook_deliveries::last_error,
            webhook_deliveries::created_at,
            webhook_deliveries::delivered_at,
            webhook_events::payload,
        ))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let attempts: Vec<AttemptRow> = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(&ids))
        .order(webhook_attempts::id)
        .select((
            webhook_attempts::delivery_id,
            webhook_attempts::attempted_at,
            webhook_attempts::status_code,
            webhook_attempts::error,
            webhook_attempts::duration_ms,
        ))
        .load(conn)?;
    let data = rows
        .into_iter()
        .map(
            |(did, event, status, n, next, code, error, created, delivered, payload)| {
                let status = DeliveryState::from_stored(&status)?;
                Ok(Delivery {
                    id: did,
                    event,
                    status,
                    attempts: n,
                    next_attempt_at: (status == DeliveryState::Pending).then(|| next.and_utc()),
                    last_status_code: code,
                    last_error: error,
                    created_at: created.and_utc(),
                    delivered_at: delivered.map(|d| d.and_utc()),
                    payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                    attempt_log: attempts
                        .iter()
                        .filter(|a| a.0 == did)
                        .map(|a| Attempt {
                            attempted_at: a.1.and_utc(),
                            status_code: a.2,
                            error: a.3.clone(),
                            duration_ms: a.4,
                        })
                        .collect(),
                })
            },
        )
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(page.list(data, total))
}

/// Sends a delivery again: a failed one after its receiver is fixed, or a delivered one the
/// receiver lost. A pending one is already on its way (409).
pub fn redeliver(conn: &mut Db, user: &AuthUser, webhook: i64, delivery: i64) -> Result<(), ApiError> {
    policy::require(user, Action::ManageWebhooks)?;
    let actor = user.id;
    let at = now();
    conn.transaction::<_, ApiError, _>(|conn| {
        let changed = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(delivery))
                .filter(webhook_deliveries::webhook_id.eq(webhook))
                .filter(webhook_deliveries::status.ne(DeliveryState::Pending.as_str())),
        )
        .set((
            webhook_deliveries::status.eq(DeliveryState::Pending.as_str()),
            webhook_deliveries::next_attempt_at.eq(at),
            // Back-off starts again: the receiver is thought to be fixed.
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::claim.eq(None::<i64>),
            webhook_deliveries::updated_at.eq(at),
        ))
        .execute(conn)?;
        if changed == 0 {
            let exists: i64 = webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(delivery))
                .filter(webhook_deliveries::webhook_id.eq(webhook))
                .count()
                .get_result(conn)?;
            return Err(if exists == 0 {
                ApiError::not_found(Code::DeliveryNotFound)
            } else {
                ApiError::conflict(Code::DeliveryPending)
            });
        }
        Entry::new(Some(actor), "webhook.redeliver", Resource::Webhook, Some(webhook))
            .detail(serde_json::json!({ "delivery": delivery }))
            .record(conn)?;
        super::written(conn);
        Ok(())
    })
}
