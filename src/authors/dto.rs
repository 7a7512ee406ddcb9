//! Request and response bodies for authors and accounts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::AuthorRow;
use crate::auth::Role;
use crate::error::ApiError;

/// A public author profile. Never carries email, role or anything private.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicAuthor {
    pub id: i64,
    #[schema(example = "hoang-anh")]
    pub slug: String,
    #[schema(example = "Hoàng Anh")]
    pub name: String,
    #[schema(required)]
    pub bio: Option<String>,
    #[schema(required)]
    pub avatar_url: Option<String>,
    /// Published articles with this author in the byline.
    pub article_count: i64,
}

impl PublicAuthor {
    pub fn from_row(row: AuthorRow, article_count: i64) -> Self {
        PublicAuthor {
            id: row.id,
            slug: row.slug,
            name: row.name,
            bio: row.bio,
            avatar_url: row.avatar_url,
            article_count,
        }
    }
}

/// An account as its owner and administrators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub id: i64,
    pub slug: String,
    pub name: String,
    #[schema(required)]
    pub bio: Option<String>,
    #[schema(required)]
    pub avatar_url: Option<String>,
    #[schema(required)]
    pub email: Option<String>,
    pub role: Role,
    /// Deactivated accounts cannot sign in; their bylines stay.
    pub active: bool,
    /// Whether the account has credentials (email and password); false for a byline only.
    pub can_sign_in: bool,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<AuthorRow> for Account {
    type Error = ApiError;

    fn try_from(row: AuthorRow) -> Result<Self, ApiError> {
        Ok(Account {
            role: row.role()?,
            can_sign_in: row.email.is_some() && row.password_hash.is_some(),
            id: row.id,
            slug: row.slug,
            name: row.name,
            bio: row.bio,
            avatar_url: row.avatar_url,
            email: row.email,
            active: row.active,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// `POST /admin/authors`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAuthor {
    /// 1 to 100 characters after trimming.
    #[schema(example = "Hoàng Anh", min_length = 1, max_length = 100)]
    pub name: String,
    /// Generated from the name when absent (`Hoàng Anh` → `hoang-anh`).
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
    #[schema(max_length = 2000)]
    pub bio: Option<String>,
    #[schema(max_length = 2048)]
    pub avatar_url: Option<String>,
    /// Needed, with `password`, to sign in.
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// At least 10 characters, at most 1,024 bytes, not the email; requires `email`.
    #[schema(min_length = 10, max_length = 1024)]
    pub password: Option<String>,
    /// Default `author`.
    pub role: Option<Role>,
}

/// `PATCH /admin/authors/{id}`: only the fields sent change; `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAuthor {
    pub name: Option<String>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// Sets a new password and signs the account out everywhere.
    pub password: Option<String>,
    pub role: Option<Role>,
    /// `false` deactivates (signs out everywhere, blocks sign-in); `true` reactivates.
    pub active: Option<bool>,
}

/// `PATCH /auth/me`: one's own public profile.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    pub name: Option<String>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
}

impl From<UpdateMe> for UpdateAuthor {
    fn from(me: UpdateMe) -> Self {
        UpdateAuthor {
            name: me.name,
            slug: me.slug,
            bio: me.bio,
            avatar_url: me.avatar_url,
            ..UpdateAuthor::default()
        }
    }
}
