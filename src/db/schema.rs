//! Table definitions shared by both backends: only SQL types that PostgreSQL and SQLite
//! both have (BigInt, Text, Bool, Timestamp stored as UTC).

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}
