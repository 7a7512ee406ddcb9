//! The cache of public list totals, and sharing one count's error among the requests that
//! waited for it.

/// Totals of public lists by filter. Counting 100,000 index entries costs more than the rest
/// of a list request together, and totals change only when public content does. Keys carry
/// the cache generations the total was counted under (see [`crate::cache`]), so a change
/// made by any process retires them as exactly as it retires cached answers; entries live
/// 10 minutes only to bound memory.
pub struct ListTotals(pub(super) moka::sync::Cache<String, (i64, bool)>);

impl Default for ListTotals {
    fn default() -> Self {
        ListTotals(
            moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(600))
                .build(),
        )
    }
}

/// A copy of a database error that several requests share: database errors keep their kind
/// and message (an unreachable database stays a 503), anything else keeps its text.
pub(super) fn shared_error(e: &diesel::result::Error) -> diesel::result::Error {
    use diesel::result::Error;
    match e {
        Error::DatabaseError(kind, info) => Error::DatabaseError(*kind, Box::new(info.message().to_owned())),
        other => Error::QueryBuilderError(other.to_string().into()),
    }
}
