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

diesel::table! {
    categories (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        parent_id -> Nullable<BigInt>,
        position -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tags (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    articles (id) {
        id -> BigInt,
        slug -> Text,
        title -> Text,
        summary -> Nullable<Text>,
        source -> Nullable<Text>,
        body -> Text,
        body_format -> Text,
        body_html -> Text,
        cover_image_url -> Nullable<Text>,
        category_id -> Nullable<BigInt>,
        meta_title -> Nullable<Text>,
        meta_description -> Nullable<Text>,
        comments_enabled -> Bool,
        status -> Text,
        version -> BigInt,
        publish_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        view_count -> BigInt,
        comment_count -> BigInt,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        unpublish_at -> Nullable<Timestamp>,
        featured -> Bool,
        featured_rank -> BigInt,
        noindex -> Bool,
        canonical_url -> Nullable<Text>,
        was_public -> Bool,
    }
}

diesel::table! {
    article_slugs (slug) {
        slug -> Text,
        article_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    article_authors (article_id, author_id) {
        article_id -> BigInt,
        author_id -> BigInt,
        position -> BigInt,
    }
}

diesel::table! {
    article_tags (article_id, tag_id) {
        article_id -> BigInt,
        tag_id -> BigInt,
    }
}

diesel::table! {
    article_revisions (id) {
        id -> BigInt,
        article_id -> BigInt,
        version -> BigInt,
        content -> Text,
        edited_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        article_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        root_id -> Nullable<BigInt>,
        name -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        title -> Text,
        content -> Text,
        status -> Text,
        is_staff -> Bool,
        author_id -> Nullable<BigInt>,
        client_hash -> Text,
        user_agent -> Nullable<Text>,
        content_hash -> Text,
        flags -> Nullable<Text>,
        search_text -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    comment_moderations (id) {
        id -> BigInt,
        comment_id -> BigInt,
        from_status -> Nullable<Text>,
        to_status -> Text,
        moderator_id -> Nullable<BigInt>,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    captcha_spent (nonce) {
        nonce -> Text,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(articles -> categories (category_id));
diesel::joinable!(article_authors -> articles (article_id));
diesel::joinable!(article_authors -> authors (author_id));
diesel::joinable!(article_tags -> articles (article_id));
diesel::joinable!(article_tags -> tags (tag_id));
diesel::joinable!(article_revisions -> articles (article_id));
diesel::joinable!(article_slugs -> articles (article_id));
diesel::joinable!(comments -> articles (article_id));
diesel::joinable!(comment_moderations -> comments (comment_id));
diesel::joinable!(comment_moderations -> authors (moderator_id));
diesel::allow_tables_to_appear_in_same_query!(
    articles,
    article_slugs,
    article_authors,
    article_tags,
    article_revisions,
    authors,
    categories,
    tags,
    comments,
    comment_moderations,
    article_search,
    media,
    article_media,
);

// Folded text for search (see migration 000005). PostgreSQL adds `tsvector` columns (kept by
// a trigger, or given by the importer: migration 000011) and SQLite FTS5 indexes over this
// table; only the importer's SQL names them (`search::index_new`).
diesel::table! {
    article_search (article_id) {
        article_id -> BigInt,
        key -> BigInt,
        title -> Text,
        summary -> Text,
        body -> Text,
    }
}

diesel::joinable!(article_search -> articles (article_id));

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        url -> Text,
        events -> Text,
        secret -> Text,
        description -> Nullable<Text>,
        active -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> BigInt,
        event -> Text,
        payload -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        event_id -> BigInt,
        status -> Text,
        attempts -> BigInt,
        next_attempt_at -> Timestamp,
        claim -> Nullable<BigInt>,
        last_status_code -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        attempted_at -> Timestamp,
        status_code -> Nullable<BigInt>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_events, webhook_deliveries, webhook_attempts);

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        resource_type -> Text,
        resource_id -> Nullable<BigInt>,
        client_hash -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(audit_log, authors);

diesel::table! {
    media (id) {
        id -> BigInt,
        kind -> Text,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        width -> Nullable<BigInt>,
        height -> Nullable<BigInt>,
        alt -> Nullable<Text>,
        caption -> Nullable<Text>,
        credit -> Nullable<Text>,
        title -> Nullable<Text>,
        storage_key -> Text,
        variants -> Text,
        folded -> Text,
        uploaded_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    article_media (article_id, role, position) {
        article_id -> BigInt,
        media_id -> BigInt,
        role -> Text,
        position -> BigInt,
    }
}

diesel::table! {
    /// Each article's byline, tags and covers as one row of ids (see migration 000015).
    article_links (article_id) {
        article_id -> BigInt,
        ids -> Text,
    }
}

diesel::joinable!(article_media -> articles (article_id));
diesel::joinable!(article_media -> media (media_id));
diesel::joinable!(media -> authors (uploaded_by));
