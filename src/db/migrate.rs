//! Schema migrations, embedded in the binary: one folder per backend with the same version
//! names, so both databases always describe the same schema version.

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationVersion;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::Db;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any fixed number works; it only has to be the same in every newsdesk process.
const PG_MIGRATION_LOCK: i64 = 0x6e65_7773_6465_736b; // "newsdesk"

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Applies every pending migration and returns the versions applied.
///
/// On PostgreSQL several processes may start at once behind a load balancer; an advisory lock
/// makes them take turns, so the later ones find nothing left to do instead of racing.
pub fn run_pending(conn: &mut Db) -> Result<Vec<String>, BoxError> {
    match conn {
        Db::Pg(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))?;
            let applied = pg.run_pending_migrations(POSTGRES).map(versions);
            pg.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))?;
            applied
        }
        Db::Sqlite(lite) => lite.run_pending_migrations(SQLITE).map(versions),
    }
}

/// Reverts every applied migration, newest first; for the tests that take the schema all the
/// way down and up again.
#[cfg(any(test, feature = "test-support"))]
pub fn revert_all(conn: &mut Db) -> Result<Vec<String>, BoxError> {
    match conn {
        Db::Pg(pg) => pg.revert_all_migrations(POSTGRES).map(versions),
        Db::Sqlite(lite) => lite.revert_all_migrations(SQLITE).map(versions),
    }
}

/// Reverts the newest applied migration; for the tests of what a migration does to the rows
/// already there.
#[cfg(any(test, feature = "test-support"))]
pub fn revert_last(conn: &mut Db) -> Result<String, BoxError> {
    match conn {
        Db::Pg(pg) => pg.revert_last_migration(POSTGRES).map(|v| v.to_string()),
        Db::Sqlite(lite) => lite.revert_last_migration(SQLITE).map(|v| v.to_string()),
    }
}

/// Versions applied so far.
pub fn applied(conn: &mut Db) -> Result<Vec<String>, BoxError> {
    match conn {
        Db::Pg(pg) => pg.applied_migrations().map(versions),
        Db::Sqlite(lite) => lite.applied_migrations().map(versions),
    }
}

fn versions(list: Vec<MigrationVersion<'_>>) -> Vec<String> {
    list.into_iter().map(|v| v.to_string()).collect()
}

/// Versions of the SQLite migrations this binary carries, oldest first.
pub fn known_sqlite() -> Result<Vec<String>, BoxError> {
    let list = diesel::migration::MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE)?;
    Ok(list.iter().map(|m| m.name().version().to_string()).collect())
}
