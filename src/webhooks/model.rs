//! Webhook rows as stored, the delivery states their text column holds, and the column
//! sets written to them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::webhooks;
use crate::error::ApiError;

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

    pub fn parse(s: &str) -> Option<DeliveryState> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// A state read from the database; anything but the three names is a broken database.
    pub fn from_stored(raw: &str) -> Result<DeliveryState, ApiError> {
        DeliveryState::parse(raw)
            .ok_or_else(|| ApiError::internal(format!("unknown delivery status `{raw}`")))
    }
}

#[derive(Insertable)]
#[diesel(table_name = webhooks)]
pub struct NewWebhook<'a> {
    pub url: &'a str,
    pub events: &'a str,
    pub secret: &'a str,
    pub description: Option<&'a str>,
    pub active: bool,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The columns a patch sets; `None` leaves a column as it is.
#[derive(AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct WebhookChanges<'a> {
    pub url: Option<&'a str>,
    pub events: Option<String>,
    pub secret: Option<&'a str>,
    pub description: Option<Option<&'a str>>,
    pub active: Option<bool>,
    pub updated_at: NaiveDateTime,
}
