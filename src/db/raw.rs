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
#[derive(Debug, Clone)]
pub struct Raw {
    sqlite: &'static str,
    pg: &'static str,
    binds: Vec<Bind>,
}

impl Raw {
    /// The same text on both backends.
    pub fn new(sql: &'static str) -> Self {
        Raw::each(sql, sql)
    }

    /// A text per backend, with the same placeholders in the same order.
    pub fn each(sqlite: &'static str, pg: &'static str) -> Self {
        Raw {
            sqlite,
            pg,
            binds: Vec::new(),
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
        if sql.matches('?').count() != self.binds.len() {
            return Err(diesel::result::Error::QueryBuilderError(
                format!(
                    "{} placeholders, {} binds",
                    sql.matches('?').count(),
                    self.binds.len()
                )
                .into(),
            ));
        }
        let mut parts = sql.split('?');
        out.push_sql(parts.next().unwrap_or_default());
        for (bind, part) in self.binds.iter().zip(parts) {
            match bind {
                Bind::Int(v) => out.push_bind_param::<BigInt, _>(v)?,
                Bind::Text(v) => out.push_bind_param::<Text, _>(v)?,
                Bind::Time(v) => out.push_bind_param::<Timestamp, _>(v)?,
            }
            out.push_sql(part);
        }
        Ok(())
    }
}

/// `IN` a list of ids bound with [`Raw::ids`], on SQLite.
pub const IDS_SQLITE: &str = "IN (SELECT value FROM json_each('[' || ? || ']'))";
/// The same on PostgreSQL.
pub const IDS_PG: &str = "= ANY(string_to_array(?, ',')::bigint[])";

impl QueryId for Raw {
    type QueryId = ();
    // Keyed by its text instead: every `Raw` is one Rust type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Raw {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Raw {}

impl QueryFragment<Sqlite> for Raw {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk(self.sqlite, out)
    }
}

impl QueryFragment<Pg> for Raw {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk(self.pg, out)
    }
}
