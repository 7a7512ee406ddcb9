//! Hot reads run on the connection they are for, bypassing the two-backend layer.
//!
//! Diesel's derived `MultiConnection` wraps every statement in a query that writes its whole
//! SQL text again on each execution, to hand the binds over to the backend's own collector,
//! even when the prepared statement is already cached. On an uncached article page that was
//! a tenth of the server's time (`SerializedQuery::walk_ast` in the profile). A query built
//! with diesel's DSL is backend-neutral until it runs, so the statements every public page
//! runs go through [`load!`](crate::db::direct::load) and
//! [`first!`](crate::db::direct::first) instead: the query is written once and built for
//! the backend of the connection, which runs it directly. A selection by a struct
//! (`as_select()`) is typed by its backend, hence macros rather than functions.

/// `load!(conn, query)`: the rows of `query`, as `RunQueryDsl::load` gives them.
macro_rules! load {
    ($conn:expr, $query:expr $(,)?) => {
        match $conn {
            $crate::db::Db::Sqlite(c) => ::diesel::RunQueryDsl::load($query, c),
            $crate::db::Db::Pg(c) => ::diesel::RunQueryDsl::load($query, c),
        }
    };
}

/// `first!(conn, query)`: the first row of `query`, if any.
macro_rules! first {
    ($conn:expr, $query:expr $(,)?) => {
        ::diesel::OptionalExtension::optional(match $conn {
            $crate::db::Db::Sqlite(c) => ::diesel::RunQueryDsl::first($query, c),
            $crate::db::Db::Pg(c) => ::diesel::RunQueryDsl::first($query, c),
        })
    };
}

pub(crate) use {first, load};
