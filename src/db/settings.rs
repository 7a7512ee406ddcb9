//! Process-wide values kept in the `settings` table, such as generated secrets.

use base64::Engine;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::Db;
use super::schema::settings;

/// Returns the secret stored under `key`, generating and storing 256 random bits the first
/// time. When several processes start together, the first insert wins and everyone reads it
/// back, so all processes sign with the same key.
pub fn secret(conn: &mut Db, key: &str) -> QueryResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| DieselError::QueryBuilderError(e.to_string().into()))?;
    let fresh = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let inserted = diesel::insert_into(settings::table)
        .values((
            settings::key.eq(key),
            settings::value.eq(&fresh),
            settings::created_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
        Err(e) => return Err(e),
    }
    settings::table.find(key).select(settings::value).first(conn)
}
