//! A list's row count written into the SQL text instead of bound.
//!
//! Diesel binds `LIMIT` and `OFFSET`. For a bound limit, PostgreSQL's generic plan has to
//! assume a tenth of the table, so a custom plan, which sees the 20, always looks cheaper and
//! PostgreSQL plans the statement again on every call: `pg_stat_statements` showed the public
//! list's rows planned once per call, 108 µs of planning against 60 µs of execution. With the
//! limit in the text and no offset, PostgreSQL keeps a generic plan from the sixth call on.
//! The texts differ only by the count (a page size, 1 to 100), so each connection prepares a
//! few of them. Pages by number after the first keep diesel's bound limit and offset, since a
//! bound offset keeps custom plans anyway and written into the text it would make a statement
//! per page; cursors' pages have no offset, and use this.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// `query` (ordered, without a limit or an offset) limited to its first `rows`.
#[derive(Debug, Clone)]
pub struct TextLimit<Q> {
    query: Q,
    rows: u8,
}

impl<Q> TextLimit<Q> {
    /// A page size is at most 100 (`envelope::PageQuery`), so a `u8` bounds the texts.
    pub fn new(query: Q, rows: u8) -> Self {
        TextLimit { query, rows }
    }
}

impl<Q: Query> Query for TextLimit<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> QueryId for TextLimit<Q> {
    type QueryId = ();
    // Found in the statement cache by its text, which carries the number.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for TextLimit<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_sql(&self.rows.to_string());
        Ok(())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for TextLimit<Q> {}

/// `query` limited to its first `ROWS`, the count in the text and in the type.
///
/// A [`TextLimit`] is found in the connection's statement cache by its text, which diesel
/// writes out on every call: on PostgreSQL's uncached list that was about a tenth of the
/// server's samples. With the count in the type the statement is found by its type, so the
/// most read lists (the default page size) skip writing their SQL.
#[derive(Debug, Clone, Copy)]
pub struct FixedLimit<Q, const ROWS: u8>(pub Q);

impl<Q: Query, const ROWS: u8> Query for FixedLimit<Q, ROWS> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryId, const ROWS: u8> QueryId for FixedLimit<Q, ROWS> {
    type QueryId = FixedLimit<Q::QueryId, ROWS>;
    const HAS_STATIC_QUERY_ID: bool = Q::HAS_STATIC_QUERY_ID;
}

impl<Q: QueryFragment<DB>, DB: Backend, const ROWS: u8> QueryFragment<DB> for FixedLimit<Q, ROWS> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_sql(&ROWS.to_string());
        Ok(())
    }
}

impl<Q, Conn, const ROWS: u8> RunQueryDsl<Conn> for FixedLimit<Q, ROWS> {}
