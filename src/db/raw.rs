//! Hand-written SQL that each connection prepares once.
//!
//! Diesel's `sql_query` and `sql` literals are never kept in the statement cache, so a
//! statement diesel's builder cannot express (a `UNION ALL` of limited sub-selects, which
//! diesel does not offer across both backends, or a correlated sub-select) would be parsed
//! and planned again on every request. [`Raw`] is such a statement with its binds: its text is
//! fixed, so the connection's statement cache keys it by that text and reuses the prepared
//! statement.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::sql_types::{BigInt, Text, Timestamp, Untyped};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, QueryableByName};

use super::Db;

/// A value bound to a `?` of a [`Raw`] statement.
#[derive(Debug, Clone)]
enum Bind {
    Int(i64),
    Text(String),
    Time(NaiveDateTime),
}

/// A statement with `?` placeholders (no `?` elsewhere in its text) and its binds, in order.
///
/// `K` names the statement for the connection's statement cache (see [`Raw::keyed`]); the
/// default, `()`, leaves it to be found by its text.
#[derive(Debug, Clone)]
pub struct Raw<K = ()> {
    sqlite: &'static str,
    pg: &'static str,
    binds: Vec<Bind>,
    key: std::marker::PhantomData<K>,
}

/// A type that names one statement, for [`Raw::keyed`].
pub trait Key: 'static {
    /// Whether the type names the statement (`()` does not: the text does).
    const NAMES: bool = true;
}

impl Key for () {
    const NAMES: bool = false;
}

impl Raw {
    /// The same text on both backends.
    pub fn new(sql: &'static str) -> Self {
        Raw::each(sql, sql)
    }

    /// A text per backend, with the same placeholders in the same order.
    pub fn each(sqlite: &'static str, pg: &'static str) -> Self {
        Raw::keyed(sqlite, pg)
    }
}

impl<K: Key> Raw<K> {
    /// Like [`Raw::each`], for a statement that `K` names, and no other: the connection finds
    /// its prepared statement by the type, without writing out and hashing the text on each
    /// call, as it must to find one by its text (a few per cent of an uncached page for its
    /// longest statements). Each text needs a type of its own.
    pub fn keyed(sqlite: &'static str, pg: &'static str) -> Self {
        Raw {
            sqlite,
            pg,
            binds: Vec::new(),
            key: std::marker::PhantomData,
        }
    }

    pub fn int(mut self, value: i64) -> Self {
        self.binds.push(Bind::Int(value));
        self
    }

    pub fn text(mut self, value: impl Into<String>) -> Self {
        self.binds.push(Bind::Text(value.into()));
        self
    }

    pub fn time(mut self, value: NaiveDateTime) -> Self {
        self.binds.push(Bind::Time(value));
        self
    }

    /// Ids for the text of [`IDS_SQLITE`] / [`IDS_PG`].
    pub fn ids(self, ids: &[i64]) -> Self {
        self.text(super::ids::joined(ids))
    }

    /// Runs the statement and reads its rows by column name.
    pub fn load<R>(self, conn: &mut Db) -> QueryResult<Vec<R>>
    where
        R: QueryableByName<Sqlite> + QueryableByName<Pg> + 'static,
    {
        match conn {
            Db::Sqlite(c) => RunQueryDsl::load(self, c),
            Db::Pg(c) => RunQueryDsl::load(self, c),
        }
    }

    /// Runs a statement that answers no rows; the number of rows it changed.
    pub fn execute(self, conn: &mut Db) -> QueryResult<usize> {
        match conn {
            Db::Sqlite(c) => RunQueryDsl::execute(self, c),
            Db::Pg(c) => RunQueryDsl::execute(self, c),
        }
    }

    fn walk<'b, DB>(&'b self, sql: &'static str, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()>
    where
        DB: diesel::backend::Backend
            + diesel::sql_types::HasSqlType<BigInt>
            + diesel::sql_types::HasSqlType<Text>
            + diesel::sql_types::HasSqlType<Timestamp>,
        i64: diesel::serialize::ToSql<BigInt, DB>,
        String: diesel::serialize::ToSql<Text, DB>,
        NaiveDateTime: diesel::serialize::ToSql<Timestamp, DB>,
    {
        let mismatch = || {
            diesel::result::Error::QueryBuilderError(
                format!(
                    "{} placeholders, {} binds",
                    sql.matches('?').count(),
                    self.binds.len()
                )
                .into(),
            )
        };
        // One pass over the text: every call walks it at least once, to bind.
        let mut parts = sql.split('?');
        out.push_sql(parts.next().unwrap_or_default());
        let mut binds = self.binds.iter();
        for part in parts {
            match binds.next().ok_or_else(mismatch)? {
                Bind::Int(v) => out.push_bind_param::<BigInt, _>(v)?,
                Bind::Text(v) => out.push_bind_param::<Text, _>(v)?,
                Bind::Time(v) => out.push_bind_param::<Timestamp, _>(v)?,
            }
            out.push_sql(part);
        }
        if binds.next().is_some() {
            return Err(mismatch());
        }
        Ok(())
    }
}

/// `IN` a list of ids bound with [`Raw::ids`], on SQLite.
pub const IDS_SQLITE: &str = "IN (SELECT value FROM json_each('[' || ? || ']'))";
/// The same on PostgreSQL.
///
/// The array comes from a sub-select so that the planner cannot see how many ids there are.
/// With `= ANY(string_to_array(?, ','))` alone, each custom plan folded the bound text into
/// an array of known length and looked cheaper than the generic plan, which has to guess, so
/// PostgreSQL planned the statement again on every execution: `pg_stat_statements` showed
/// the related rows and the bylines planned once per call, at five to seven times their
/// execution time. Either way the plan is the same index scan.
pub const IDS_PG: &str = "= ANY((SELECT string_to_array(?, ',')::bigint[])::bigint[])";

impl<K: Key> QueryId for Raw<K> {
    type QueryId = K;
    const HAS_STATIC_QUERY_ID: bool = K::NAMES;
}

impl<K> Query for Raw<K> {
    type SqlType = Untyped;
}

impl<K, Conn> RunQueryDsl<Conn> for Raw<K> {}

impl<K: Key> QueryFragment<Sqlite> for Raw<K> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk(self.sqlite, out)
    }
}

impl<K: Key> QueryFragment<Pg> for Raw<K> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk(self.pg, out)
    }
}
