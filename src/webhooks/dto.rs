//! Request and response bodies for webhooks and their deliveries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Event;
use super::model::DeliveryState;

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
