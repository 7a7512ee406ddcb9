//! `column IN (ids)` with the ids in one bound value.
//!
//! Diesel writes `eq_any(vec)` as one placeholder per id on SQLite and marks the statement
//! unsafe to cache, so every list, page and article read that looks up relations by id had
//! its SQL parsed and planned again on each request (`sqlite3RunParser` and
//! `wherePathSolver` high in the profile of uncached reads). With the ids joined into one text,
//! the statement's text is the same for any number of ids but one (an equality, see
//! [`InIds`]), and each connection prepares each text once: SQLite reads the list with
//! `json_each`, PostgreSQL as an array.

/// A map keyed by row ids, for the relations a page or list gathers. The ids come from the
/// database, never from a client, so the hash needs no defence against chosen keys, which is
/// what SipHash, the standard map's, pays for; FxHash of an integer is a multiplication
/// (SipHash was 2.5% of an uncached list).
pub type IdMap<V> = std::collections::HashMap<i64, V, rustc_hash::FxBuildHasher>;

/// `rows`, read by their ids in whatever order the database returned them, put in the order
/// of `ids` (a scan of `ids` per row: pages hold at most a hundred).
pub fn in_order_of<T>(ids: &[i64], rows: &mut [T], id: impl Fn(&T) -> i64) {
    rows.sort_by_key(|r| ids.iter().position(|&i| i == id(r)));
}

use diesel::QueryResult;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::sqlite::Sqlite;

use super::MultiBackend;

/// `column IN (ids)`, or `NOT IN` (see the module's documentation).
///
/// A single id is written as an equality (or inequality) instead, a second statement text of
/// its own: SQLite copies a bound list into a temporary index before it looks anything up, and
/// cannot tell how many ids it holds, so it may walk the whole table instead of the column's
/// index in order; with one id, both are wasted.
#[derive(Debug, Clone)]
pub struct InIds<C> {
    column: C,
    ids: Ids,
    negated: bool,
}

#[derive(Debug, Clone)]
enum Ids {
    One(i64),
    /// The ids as `1,2,3`.
    List(String),
}

impl Ids {
    fn of(ids: &[i64]) -> Self {
        match ids {
            [one] => Ids::One(*one),
            _ => Ids::List(joined(ids)),
        }
    }
}

/// `column` is one of `ids` (none when `ids` is empty).
pub fn in_ids<C>(column: C, ids: &[i64]) -> InIds<C> {
    InIds {
        column,
        ids: Ids::of(ids),
        negated: false,
    }
}

/// `column` is none of `ids` (any value when `ids` is empty).
pub fn not_in_ids<C>(column: C, ids: &[i64]) -> InIds<C> {
    InIds {
        column,
        ids: Ids::of(ids),
        negated: true,
    }
}

pub(super) fn joined(ids: &[i64]) -> String {
    use std::fmt::Write;
    let mut list = String::with_capacity(ids.len() * 8);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            list.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(list, "{id}");
    }
    list
}

impl<C> Expression for InIds<C> {
    type SqlType = Bool;
}

impl<C, QS> AppearsOnTable<QS> for InIds<C> where C: AppearsOnTable<QS> {}

impl<C, QS> SelectableExpression<QS> for InIds<C> where C: SelectableExpression<QS> {}

impl<C, GB> ValidGrouping<GB> for InIds<C>
where
    C: ValidGrouping<GB>,
{
    type IsAggregate = C::IsAggregate;
}

impl<C> QueryId for InIds<C> {
    type QueryId = ();
    // The text differs with `negated` and for one id: statements are cached by their SQL instead.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for InIds<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        match &self.ids {
            Ids::One(id) => {
                out.push_sql(if self.negated { " <> " } else { " = " });
                out.push_bind_param::<BigInt, _>(id)?;
            }
            Ids::List(list) => {
                out.push_sql(if self.negated { " NOT IN " } else { " IN " });
                out.push_sql("(SELECT value FROM json_each('[' || ");
                out.push_bind_param::<Text, _>(list)?;
                out.push_sql(" || ']'))");
            }
        }
        Ok(())
    }
}

impl<C: QueryFragment<Pg>> QueryFragment<Pg> for InIds<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        match &self.ids {
            Ids::One(id) => {
                out.push_sql(if self.negated { " <> " } else { " = " });
                out.push_bind_param::<BigInt, _>(id)?;
            }
            Ids::List(list) => {
                out.push_sql(if self.negated { " <> ALL(" } else { " = ANY(" });
                out.push_sql("string_to_array(");
                out.push_bind_param::<Text, _>(list)?;
                out.push_sql(", ',')::bigint[])");
            }
        }
        Ok(())
    }
}

impl<C> QueryFragment<MultiBackend> for InIds<C>
where
    C: QueryFragment<Sqlite> + QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}
