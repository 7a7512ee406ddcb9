//! Table definitions shared by both backends: only SQL types that PostgreSQL and SQLite
//! both have (BigInt, Text, Bool, Timestamp stored as UTC).

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    authors (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        bio -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        email -> Nullable<Text>,
        email_key -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        role -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        author_id -> BigInt,
        family -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        spent_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        subject -> Text,
        failed_at -> Timestamp,
    }
}

diesel::joinable!(refresh_tokens -> authors (author_id));
diesel::allow_tables_to_appear_in_same_query!(authors, refresh_tokens, login_failures, settings);
