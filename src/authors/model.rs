use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::Role;
use crate::db::schema::authors;

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
    pub fn role(&self) -> Role {
        // The column has a CHECK constraint on the five names.
        Role::parse(&self.role).unwrap_or(Role::Contributor)
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
