//! A list's first page with its row count written into the SQL text.
//!
//! Diesel binds `LIMIT` and `OFFSET`. For a bound limit, PostgreSQL's generic plan has to
//! assume a tenth of the table, so a custom plan, which sees the 20, always looks cheaper and
//! PostgreSQL plans the statement again on every call: `pg_stat_statements` showed the public
//! list's rows planned once per call, 108 µs of planning against 60 µs of execution. With the
//! limit in the text and no offset, PostgreSQL keeps a generic plan from the sixth call on.
//! The texts differ only by the page size (1 to 100), so each connection prepares a few of
//! them. Later pages keep diesel's bound limit and offset: one text for any page.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// `query` (ordered, without a limit or an offset) limited to its first `rows`.
#[derive(Debug, Clone)]
pub struct FirstRows<Q> {
    query: Q,
    rows: u8,
}

impl<Q> FirstRows<Q> {
    /// A page size is at most 100 (`envelope::PageQuery`), so a `u8` bounds the texts.
    pub fn new(query: Q, rows: u8) -> Self {
        FirstRows { query, rows }
    }
}

impl<Q: Query> Query for FirstRows<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> QueryId for FirstRows<Q> {
    type QueryId = ();
    // Found in the statement cache by its text, which carries the number.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for FirstRows<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_sql(&self.rows.to_string());
        Ok(())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for FirstRows<Q> {}
