//! Author rows as stored, and the column sets written to them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::Role;
use crate::db::schema::authors;
use crate::error::ApiError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = authors)]
pub struct AuthorRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub email: Option<String>,
    pub email_key: Option<String>,
    pub password_hash: Option<String>,
    pub role: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl AuthorRow {
    /// The column has a CHECK constraint on the five names, so anything else is a broken
    /// database: an error, never a guess at fewer rights.
    pub fn role(&self) -> Result<Role, ApiError> {
        Role::parse(&self.role).ok_or_else(|| ApiError::internal(format!("unknown role `{}`", self.role)))
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = authors)]
pub struct AuthorInsertForm {
    pub slug: String,
    pub name: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub email: Option<String>,
    pub email_key: Option<String>,
    pub password_hash: Option<String>,
    pub role: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Columns a PATCH may change; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = authors)]
pub struct AuthorUpdateForm {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub bio: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub email_key: Option<Option<String>>,
    pub password_hash: Option<Option<String>>,
    pub role: Option<String>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}
