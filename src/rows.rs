//! Multi-row INSERTs on either backend.

/// `INSERT INTO table VALUES (…), (…), …` for a slice of rows, on the connection's own
/// backend: Diesel writes multi-row statements for each backend but not through the
/// two-backend `Db`, whose dialect would need PostgreSQL's `DEFAULT` keyword on SQLite too.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::Db::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
            $crate::db::Db::Pg(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}
pub(crate) use insert_rows;
