//! Response bodies of the audit log.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::Resource;

/// Who did it, when the account still exists.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    pub id: i64,
    pub name: String,
}

/// One line of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub at: DateTime<Utc>,
    /// The account that acted, as it is now; null for the system, an unknown email at
    /// sign-in, or an account since removed (then `actor_id` still says who it was).
    #[schema(required)]
    pub actor: Option<AuditActor>,
    #[schema(required)]
    pub actor_id: Option<i64>,
    /// `<resource>.<verb>`, such as `account.update` or `session.login_failed`.
    #[schema(example = "comment.moderate")]
    pub action: String,
    pub resource_type: Resource,
    #[schema(required)]
    pub resource_id: Option<i64>,
    /// Keyed hash of the client address, for sign-in events; never the address itself.
    #[schema(required)]
    pub client_hash: Option<String>,
    /// What the action changed, when the name alone does not say
    /// (`{"from": "pending", "to": "approved", "note": null}`).
    #[schema(required, value_type = Option<Object>)]
    pub detail: Option<Value>,
}
