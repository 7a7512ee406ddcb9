//! After-commit effects: what a database call leaves for the rest of the process to do once
//! its writes are committed, such as moving the response cache's generations or waking a
//! worker.
//!
//! Code running inside a call of a [`Database`](super::Database) records an effect with [`record`], as a value
//! of a type its own module defines; that module registers at start-up, with
//! [`Database::on_commit`](super::Database::on_commit), the hook that takes the effects of that type. When the call
//! returns, each hook receives the effects of its type that committed, in the order they were
//! recorded, and the others are dropped.
//!
//! An effect has committed when it was recorded
//! - outside any transaction, where each statement commits by itself; or
//! - inside a transaction whose every enclosing level then ended well: each savepoint
//!   released without error and the outermost `COMMIT` answered without error.
//!
//! An effect recorded inside a transaction or savepoint that rolled back, or whose `COMMIT`
//! or `RELEASE SAVEPOINT` failed, is dropped. The journal follows the transaction events
//! diesel reports for the connection, so this holds however the transaction was opened
//! (`Connection::transaction`, SQLite's immediate transactions, migrations).
//!
//! A connection opened by itself ([`super::DbUrl::connect`], used at start-up and by the
//! command-line tools) has no journal: there is no process state for its effects to update,
//! and they are dropped.

use std::any::{Any, TypeId};
use std::sync::RwLock;

use diesel::connection::{Connection, Instrumentation, InstrumentationEvent};

use super::Db;

type Effect = Box<dyn Any + Send>;

/// The effects recorded on one pooled connection, installed as its diesel instrumentation so
/// that it sees every transaction begin and end.
pub(super) struct Journal {
    /// The [`Database`](super::Database) whose pool holds the connection (see [`database_id`]).
    database: u64,
    /// Effects of the open transaction levels, outermost first.
    open: Vec<Vec<Effect>>,
    /// The level whose `COMMIT` or `RELEASE SAVEPOINT` is running: diesel reports the commit
    /// before the statement, whose outcome comes with the next finished query.
    committing: Option<usize>,
    /// Effects whose writes have committed, waiting for the call to end.
    committed: Vec<Effect>,
}

impl Journal {
    pub(super) fn new(database: u64) -> Self {
        Journal {
            database,
            open: Vec::new(),
            committing: None,
            committed: Vec::new(),
        }
    }

    fn level(depth: std::num::NonZeroU32) -> usize {
        usize::try_from(depth.get()).unwrap_or(usize::MAX)
    }
}

impl Instrumentation for Journal {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::BeginTransaction { depth, .. } => {
                let level = Self::level(depth);
                self.open.truncate(level - 1);
                self.open.resize_with(level, Vec::new);
            }
            InstrumentationEvent::CommitTransaction { depth, .. } => {
                self.committing = Some(Self::level(depth));
            }
            InstrumentationEvent::RollbackTransaction { depth, .. } => {
                self.committing = None;
                self.open.truncate(Self::level(depth) - 1);
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                if let Some(level) = self.committing.take() {
                    let start = (level - 1).min(self.open.len());
                    let ended: Vec<Effect> = self.open.drain(start..).flatten().collect();
                    // A failed commit leaves nothing of the level behind (the transaction is
                    // rolled back, or the connection is discarded as broken).
                    if error.is_none() {
                        match self.open.last_mut() {
                            Some(outer) => outer.extend(ended),
                            None => self.committed.extend(ended),
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn journal(conn: &mut Db) -> Option<&mut Journal> {
    conn.instrumentation().downcast_mut::<Journal>()
}

/// Records `effect`, to be handed to the hook registered for its type once the write it
/// belongs to has committed (see the module documentation for exactly when).
pub fn record<E: Send + 'static>(conn: &mut Db, effect: E) {
    if let Some(journal) = journal(conn) {
        let effect: Effect = Box::new(effect);
        match journal.open.last_mut() {
            Some(level) => level.push(effect),
            None => journal.committed.push(effect),
        }
    }
}

/// The id of the [`Database`](super::Database) `conn` was checked out of, which tells this process's writes
/// from other processes'; `None` for a connection opened by itself.
pub fn database_id(conn: &mut Db) -> Option<u64> {
    journal(conn).map(|j| j.database)
}

/// Takes the committed effects recorded on `conn`.
pub(super) fn take_committed(conn: &mut Db) -> Vec<Effect> {
    journal(conn)
        .map(|j| std::mem::take(&mut j.committed))
        .unwrap_or_default()
}

struct Hook {
    effect: TypeId,
    apply: Box<dyn Fn(Vec<Effect>) + Send + Sync>,
}

/// The hooks of one [`Database`](super::Database).
#[derive(Default)]
pub(super) struct Hooks(RwLock<Vec<Hook>>);

impl Hooks {
    pub(super) fn register<E: Send + 'static>(&self, hook: impl Fn(Vec<E>) + Send + Sync + 'static) {
        let apply = move |effects: Vec<Effect>| {
            hook(
                effects
                    .into_iter()
                    .filter_map(|e| e.downcast::<E>().ok().map(|e| *e))
                    .collect(),
            )
        };
        let mut hooks = self.0.write().unwrap_or_else(|p| p.into_inner());
        hooks.push(Hook {
            effect: TypeId::of::<E>(),
            apply: Box::new(apply),
        });
    }

    /// Hands each hook the effects of its type. Effects of a type without a hook are dropped.
    pub(super) fn apply(&self, mut effects: Vec<Effect>) {
        if effects.is_empty() {
            return;
        }
        // The hooks are only ever added to, and a hook that panicked cannot have left the
        // list half-changed: a poisoned lock still holds a usable list.
        let hooks = self.0.read().unwrap_or_else(|p| p.into_inner());
        for hook in hooks.iter() {
            let mine: Vec<Effect> = effects
                .extract_if(.., |e| (**e).type_id() == hook.effect)
                .collect();
            if !mine.is_empty() {
                (hook.apply)(mine);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use diesel::connection::SimpleConnection;

    use super::*;
    use crate::db::{Database, DbUrl};
    use crate::error::ApiError;

    #[derive(Debug, PartialEq)]
    struct Mark(&'static str);

    /// A database whose hook collects the marks that reach it.
    fn database(dir: &tempfile::TempDir) -> (Database, Arc<Mutex<Vec<&'static str>>>) {
        let url = DbUrl::Sqlite(dir.path().join("effects.db"));
        let db = Database::new(&url, 1, Duration::from_secs(5));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        db.on_commit(move |marks: Vec<Mark>| {
            sink.lock().unwrap().extend(marks.into_iter().map(|m| m.0));
        });
        (db, seen)
    }

    fn rollback() -> ApiError {
        ApiError::internal("rolled back on purpose")
    }

    #[test]
    fn only_effects_of_committed_work_reach_their_hook() {
        let dir = tempfile::tempdir().unwrap();
        let (db, seen) = database(&dir);
        let outcome = db.run_here(|conn| {
            conn.transaction(|conn| {
                record(conn, Mark("rolled back"));
                Err::<(), _>(rollback())
            })
        });
        assert!(outcome.is_err());
        assert!(seen.lock().unwrap().is_empty());

        db.run_here(|conn| {
            record(conn, Mark("outside a transaction"));
            conn.transaction(|conn| {
                record(conn, Mark("committed"));
                let inner = conn.transaction(|conn| {
                    record(conn, Mark("savepoint rolled back"));
                    Err::<(), _>(rollback())
                });
                assert!(inner.is_err());
                conn.transaction(|conn| {
                    record(conn, Mark("savepoint released"));
                    Ok::<_, ApiError>(())
                })
            })
        })
        .unwrap();
        assert_eq!(
            *seen.lock().unwrap(),
            ["outside a transaction", "committed", "savepoint released"]
        );
    }

    #[test]
    fn effects_of_a_failed_commit_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (db, seen) = database(&dir);
        let outcome = db.run_here(|conn| {
            conn.batch_execute(
                "CREATE TABLE parent (id INTEGER PRIMARY KEY);
                 CREATE TABLE child (parent INTEGER REFERENCES parent (id));",
            )?;
            conn.transaction(|conn| {
                // Checked at COMMIT, which therefore fails; the insert itself goes through.
                conn.batch_execute("PRAGMA defer_foreign_keys = ON; INSERT INTO child (parent) VALUES (7);")
                    .unwrap();
                record(conn, Mark("commit failed"));
                Ok::<_, ApiError>(())
            })
        });
        assert!(outcome.is_err());
        assert!(seen.lock().unwrap().is_empty());
    }

    #[test]
    fn connections_of_a_database_know_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = database(&dir);
        let id = db.run_here(|conn| Ok(database_id(conn))).unwrap();
        assert_eq!(id, Some(db.id()));
        let mut alone = DbUrl::Sqlite(dir.path().join("alone.db")).connect().unwrap();
        assert_eq!(database_id(&mut alone), None);
    }
}
