//! Accounts' sign-in, sessions and permissions.
//!
//! - [`jwt`]: short-lived HS256 access tokens.
//! - [`password`]: argon2id hashing, always off the async workers.
//! - [`sessions`]: sign-in, refresh-token rotation and revocation, throttling.
//! - [`extract`]: the `AuthUser` extractor every protected handler takes.
//! - [`policy`]: the one place that decides what a role may do.

pub mod extract;
pub mod jwt;
pub mod password;
pub mod policy;
pub mod routes;
pub mod sessions;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use extract::AuthUser;

/// The five editorial roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Editor,
    Author,
    Contributor,
    Moderator,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Editor,
        Role::Author,
        Role::Contributor,
        Role::Moderator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Author => "author",
            Role::Contributor => "contributor",
            Role::Moderator => "moderator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
