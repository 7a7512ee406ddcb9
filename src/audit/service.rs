//! Reading the audit log: the administrators' filtered list, newest first.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::Resource;
use super::dto::{AuditActor, AuditEntry};
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action};
use crate::db::Db;
use crate::db::schema::{audit_log, authors};
use crate::envelope::{List, Page, PageQuery};
use crate::error::ApiError;
use crate::i18n::{Code, Msg};

/// Longest accepted `action` filter; real names are far shorter.
const ACTION_MAX: usize = 64;

/// Filters of `GET /admin/audit`, as sent.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only what this account did (its id).
    pub actor: Option<i64>,
    /// An action's exact name (`comment.moderate`), or a prefix ending in a dot for a whole
    /// family (`session.` for every sign-in, sign-out and refresh event).
    #[param(max_length = 64, example = "session.login_failed")]
    pub action: Option<String>,
    /// A kind of resource (`article`), or one resource (`article:12`).
    #[param(example = "comment:42")]
    pub resource: Option<String>,
    /// At or after this date (`2020-01-14`) or instant (RFC 3339).
    pub from: Option<String>,
    /// On or before this date, or before this instant.
    pub to: Option<String>,
}

/// What an `action` filter matches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ActionFilter {
    Exact(String),
    Prefix(String),
}

/// The filters after checking.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    actor: Option<i64>,
    action: Option<ActionFilter>,
    resource: Option<(Resource, Option<i64>)>,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
}

impl AuditQuery {
    /// Checks every filter; a malformed one is a 400 naming it.
    pub fn resolve(self) -> Result<AuditFilter, ApiError> {
        let action = match self.action.as_deref() {
            None => None,
            Some(raw) => {
                let valid = !raw.is_empty()
                    && raw.len() <= ACTION_MAX
                    && raw
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.');
                if !valid {
                    return Err(ApiError::bad_request(Code::AuditActionInvalid));
                }
                Some(if raw.ends_with('.') {
                    ActionFilter::Prefix(raw.to_owned())
                } else {
                    ActionFilter::Exact(raw.to_owned())
                })
            }
        };
        let resource = match self.resource.as_deref() {
            None => None,
            Some(raw) => {
                let (kind, id) = match raw.split_once(':') {
                    Some((kind, id)) => (kind, Some(id)),
                    None => (raw, None),
                };
                let invalid = || {
                    let kinds: Vec<&str> = Resource::ALL.iter().map(|r| r.as_str()).collect();
                    ApiError::BadRequest(Msg::new(Code::AuditResourceInvalid).arg("kinds", kinds.join(", ")))
                };
                let kind = Resource::parse(kind).ok_or_else(invalid)?;
                let id = match id {
                    None => None,
                    Some(id) => Some(id.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(invalid)?),
                };
                Some((kind, id))
            }
        };
        let from = self
            .from
            .as_deref()
            .map(|f| crate::time::parse_bound(f, "from", false))
            .transpose()?;
        let to = self
            .to
            .as_deref()
            .map(|t| crate::time::parse_bound(t, "to", true))
            .transpose()?;
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(ApiError::bad_request(Code::QueryRangeReversed));
        }
        Ok(AuditFilter {
            actor: self.actor,
            action,
            resource,
            from,
            to,
        })
    }
}

type Row = (
    i64,
    NaiveDateTime,
    Option<i64>,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// One page of the log for an administrator, newest first.
pub fn list(
    conn: &mut Db,
    user: &AuthUser,
    page: PageQuery,
    query: AuditQuery,
) -> Result<List<AuditEntry>, ApiError> {
    policy::require(user, Action::ViewAudit)?;
    let page = page.resolve()?;
    let filter = query.resolve()?;
    let (entries, total) = matching(conn, &filter, page)?;
    Ok(page.list(entries, total))
}

/// One page of entries matching `filter`, newest first, and how many match in all.
fn matching(conn: &mut Db, filter: &AuditFilter, page: Page) -> Result<(Vec<AuditEntry>, i64), ApiError> {
    let build = || {
        let mut q = audit_log::table.into_boxed();
        if let Some(actor) = filter.actor {
            q = q.filter(audit_log::actor_id.eq(actor));
        }
        match &filter.action {
            Some(ActionFilter::Exact(name)) => q = q.filter(audit_log::action.eq(name.clone())),
            Some(ActionFilter::Prefix(prefix)) => {
                // Names hold `[a-z_.]` only (checked); `_` is a LIKE wildcard, so escape it.
                let pattern = format!("{}%", prefix.replace('_', "\\_"));
                q = q.filter(audit_log::action.like(pattern).escape('\\'));
            }
            None => {}
        }
        if let Some((kind, id)) = filter.resource {
            q = q.filter(audit_log::resource_type.eq(kind.as_str()));
            if let Some(id) = id {
                q = q.filter(audit_log::resource_id.eq(id));
            }
        }
        if let Some(from) = filter.from {
            q = q.filter(audit_log::at.ge(from));
        }
        if let Some(to) = filter.to {
            q = q.filter(audit_log::at.lt(to));
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    // Ids grow with time, so the newest first is the highest id first.
    let rows: Vec<Row> = build()
        .order(audit_log::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select((
            audit_log::id,
            audit_log::at,
            audit_log::actor_id,
            audit_log::action,
            audit_log::resource_type,
            audit_log::resource_id,
            audit_log::client_hash,
            audit_log::detail,
        ))
        .load(conn)?;
    let actor_ids: BTreeSet<i64> = rows.iter().filter_map(|r| r.2).collect();
    let names: HashMap<i64, String> = if actor_ids.is_empty() {
        HashMap::new()
    } else {
        authors::table
            .filter(authors::id.eq_any(&actor_ids))
            .select((authors::id, authors::name))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect()
    };
    let entries = rows
        .into_iter()
        .map(
            |(id, at, actor_id, action, resource_type, resource_id, client_hash, detail)| {
                let resource_type = Resource::parse(&resource_type)
                    .ok_or_else(|| ApiError::internal(format!("unknown audit resource {resource_type:?}")))?;
                // Written by `Entry::record` from a `serde_json::Value`, so it parses; a row
                // that somehow does not is shown as text rather than failing the whole page.
                let detail = detail.map(|d| serde_json::from_str(&d).unwrap_or(Value::String(d)));
                Ok(AuditEntry {
                    id,
                    at: at.and_utc(),
                    actor: actor_id.and_then(|id| {
                        names.get(&id).map(|name| AuditActor {
                            id,
                            name: name.clone(),
                        })
                    }),
                    actor_id,
                    action,
                    resource_type,
                    resource_id,
                    client_hash,
                    detail,
                })
            },
        )
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok((entries, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(action: Option<&str>, resource: Option<&str>) -> AuditQuery {
        AuditQuery {
            action: action.map(str::to_owned),
            resource: resource.map(str::to_owned),
            ..AuditQuery::default()
        }
    }

    #[test]
    fn actions_are_exact_names_or_prefixes_ending_in_a_dot() {
        let f = query(Some("comment.moderate"), None)
            .resolve()
            .unwrap_or_default();
        assert_eq!(f.action, Some(ActionFilter::Exact("comment.moderate".into())));
        let f = query(Some("session."), None).resolve().unwrap_or_default();
        assert_eq!(f.action, Some(ActionFilter::Prefix("session.".into())));
        for bad in ["", "Comment.moderate", "comment%", "a b", &"x".repeat(65)] {
            assert!(query(Some(bad), None).resolve().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn resources_are_a_known_kind_and_an_optional_positive_id() {
        let f = query(None, Some("article:12")).resolve().unwrap_or_default();
        assert_eq!(f.resource, Some((Resource::Article, Some(12))));
        let f = query(None, Some("tag")).resolve().unwrap_or_default();
        assert_eq!(f.resource, Some((Resource::Tag, None)));
        for bad in [
            "",
            "articles",
            "article:",
            "article:x",
            "article:0",
            "article:-1",
            ":1",
        ] {
            assert!(query(None, Some(bad)).resolve().is_err(), "{bad:?}");
        }
    }
}
