//! Webhook subscriptions and their deliveries, for administrators.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Event;
use crate::audit::{Entry, Resource};
use crate::db::schema::{webhook_attempts, webhook_deliveries, webhook_events, webhooks};
use crate::db::{Db, now};
use crate::envelope::{List, Page};
use crate::error::{ApiError, FieldError};
use crate::i18n::{Code, FieldCode};

/// Shortest secret accepted: below this an HMAC key can be guessed offline from one
/// signed delivery.
pub const MIN_SECRET: usize = 16;
pub const MAX_SECRET: usize = 256;
pub const MAX_DESCRIPTION: usize = 500;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub description: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A webhook as administrators see it. The secret is shown once, when it is made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    pub id: i64,
    #[schema(example = "https://portal.example.vn/hooks/newsdesk")]
    pub url: String,
    pub events: Vec<Event>,
    #[schema(required)]
    pub description: Option<String>,
    /// An inactive webhook receives nothing: events meanwhile are not kept for it, and
    /// deliveries queued before wait until it is active again.
    pub active: bool,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// Deliveries waiting for a first or further attempt.
    pub pending: i64,
    /// Deliveries given up after a day of retries.
    pub failed: i64,
}

/// A webhook just created (or whose secret was just changed), with its signing secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// Key of the `X-Newsdesk-Signature` HMAC. Shown only in this answer.
    pub secret: String,
}

/// A changed webhook; `secret` only when the change set a new one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The new secret, when the request set one. Shown only in this answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// `https://…` (or `http://…`); private and loopback addresses are refused unless
    /// `NEWSDESK_WEBHOOK_ALLOW_PRIVATE=true`.
    #[schema(example = "https://portal.example.vn/hooks/newsdesk", max_length = 2000)]
    pub url: String,
    /// At least one event.
    pub events: Vec<Event>,
    /// 16–256 characters; generated (and returned once) when absent.
    #[schema(min_length = 16, max_length = 256)]
    pub secret: Option<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Default `true`.
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    pub events: Option<Vec<Event>>,
    /// A new secret (16–256 characters); the answer shows it once.
    #[schema(min_length = 16, max_length = 256)]
    pub secret: Option<String>,
    /// An empty string removes the description.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    pub active: Option<bool>,
}

/// State of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its first attempt or a retry.
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Every attempt for about a day failed; it is not retried unless redelivered.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> DeliveryState {
        match s {
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        }
    }
}

/// One attempt to deliver.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attempt {
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; null when there was no answer.
    #[schema(required)]
    pub status_code: Option<i64>,
    /// Why the attempt failed; null when it did not.
    #[schema(required)]
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// One event sent (or to be sent) to one webhook.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    /// Also sent as `X-Newsdesk-Delivery`: the same on every attempt, for receivers to drop
    /// repeats.
    pub id: i64,
    #[schema(value_type = Event)]
    pub event: String,
    pub status: DeliveryState,
    /// Attempts since the delivery was queued (or last redelivered); `attempt_log` keeps all.
    pub attempts: i64,
    /// When the next attempt is due; null unless pending.
    #[schema(required)]
    #[serde(serialize_with = "crate::time::rfc3339_opt")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub last_status_code: Option<i64>,
    #[schema(required)]
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[schema(required)]
    #[serde(serialize_with = "crate::time::rfc3339_opt")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// The exact body sent, as signed.
    pub payload: serde_json::Value,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<Attempt>,
}

/// Filters of the delivery list.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// Only deliveries in this state.
    pub status: Option<DeliveryState>,
}

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

/// A URL that passed [`super::target`]'s checks (done by the handler, which may resolve
/// names without holding a connection).
pub struct CheckedUrl(pub String);

/// Validates the parts of an input that need no lookup.
pub fn validate_input(input: &WebhookInput) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Err(e) = super::target::parse_url(&input.url) {
        errors.push(e);
    }
    check_events(&input.events, &mut errors);
    if let Some(secret) = &input.secret {
        check_secret(secret, &mut errors);
    }
    if let Some(d) = &input.description {
        check_description(d, &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

pub fn validate_patch(patch: &WebhookPatch) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Some(url) = &patch.url
        && let Err(e) = super::target::parse_url(url)
    {
        errors.push(e);
    }
    if let Some(events) = &patch.events {
        check_events(events, &mut errors);
    }
    if let Some(secret) = &patch.secret {
        check_secret(secret, &mut errors);
    }
    if let Some(d) = &patch.description {
        check_description(d, &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
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
        .filter(webhook_deliveries::status.ne("delivered"))
        .group_by((webhook_deliveries::webhook_id, webhook_deliveries::status))
        .select((
            webhook_deliveries::webhook_id,
            webhook_deliveries::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let count = |id: i64, status: &str| {
        counts
            .iter()
            .find(|(w, s, _)| *w == id && s == status)
            .map_or(0, |(_, _, n)| *n)
    };
    Ok(rows
        .into_iter()
        .map(|r| Webhook {
            pending: count(r.id, "pending"),
            failed: count(r.id, "failed"),
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

pub fn list(conn: &mut Db, page: Page) -> Result<List<Webhook>, ApiError> {
    let total: i64 = webhooks::table.count().get_result(conn)?;
    let rows = webhooks::table
        .order(webhooks::id)
        .limit(page.per_page)
        .offset(page.offset())
        .select(WebhookRow::as_select())
        .load(conn)?;
    Ok(page.list(shown(conn, rows)?, total))
}

pub fn get(conn: &mut Db, id: i64) -> Result<Webhook, ApiError> {
    one(conn, id)
}

pub fn create(
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
            .values((
                webhooks::url.eq(&url.0),
                webhooks::events.eq(&events),
                webhooks::secret.eq(&secret),
                webhooks::description.eq(&description),
                webhooks::active.eq(input.active.unwrap_or(true)),
                webhooks::created_by.eq(actor),
                webhooks::created_at.eq(at),
                webhooks::updated_at.eq(at),
            ))
            .returning(webhooks::id)
            .get_result(conn)?;
        Entry::new(Some(actor), "webhook.create", Resource::Webhook, Some(id))
            .detail(serde_json::json!({"url": url.0, "events": events_of(&events)}))
            .record(conn)?;
        one(conn, id)
    })?;
    Ok(WebhookWithSecret { webhook, secret })
}

/// The columns a patch sets; `None` leaves a column as it is.
#[derive(AsChangeset)]
#[diesel(table_name = webhooks)]
struct WebhookChanges<'a> {
    url: Option<&'a str>,
    events: Option<String>,
    secret: Option<&'a str>,
    description: Option<Option<&'a str>>,
    active: Option<bool>,
    updated_at: NaiveDateTime,
}

/// Applies a patch. Returns the webhook, with the secret when the patch set one.
pub fn update(
    conn: &mut Db,
    actor: i64,
    id: i64,
    url: Option<CheckedUrl>,
    patch: WebhookPatch,
) -> Result<(Webhook, Option<String>), ApiError> {
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
    .map(|webhook| (webhook, patch.secret))
}

/// Deletes the webhook with its deliveries, sent or not.
pub fn delete(conn: &mut Db, actor: i64, id: i64) -> Result<(), ApiError> {
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
    id: i64,
    filter: DeliveryFilter,
    page: Page,
) -> Result<List<Delivery>, ApiError> {
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
                let status = DeliveryState::parse(&status);
                Delivery {
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
                }
            },
        )
        .collect();
    Ok(page.list(data, total))
}

/// Sends a delivery again: a failed one after its receiver is fixed, or a delivered one the
/// receiver lost. A pending one is already on its way (409).
pub fn redeliver(conn: &mut Db, actor: i64, webhook: i64, delivery: i64) -> Result<(), ApiError> {
    let at = now();
    conn.transaction::<_, ApiError, _>(|conn| {
        let changed = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(delivery))
                .filter(webhook_deliveries::webhook_id.eq(webhook))
                .filter(webhook_deliveries::status.ne("pending")),
        )
        .set((
            webhook_deliveries::status.eq("pending"),
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
