CREATE TABLE categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    parent_id BIGINT REFERENCES categories (id) ON DELETE RESTRICT,
    position BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX categories_parent ON categories (parent_id, position);

CREATE TABLE tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    summary TEXT,
    source TEXT,
    cover_image_url TEXT,
    category_id BIGINT REFERENCES categories (id) ON DELETE SET NULL,
    meta_title TEXT,
    meta_description TEXT,
    comments_enabled BOOLEAN NOT NULL DEFAULT 1,
    status TEXT NOT NULL
        CHECK (status IN ('draft', 'in_review', 'scheduled', 'published', 'archived')),
    version BIGINT NOT NULL DEFAULT 1,
    publish_at TIMESTAMP,
    published_at TIMESTAMP,
    view_count BIGINT NOT NULL DEFAULT 0,
    comment_count BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES authors (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- The bodies come last: SQLite stores a row's columns in order and spills long values to
    -- overflow pages, so every column after a 10 KB body would cost reading through it.
    body_format TEXT NOT NULL CHECK (body_format IN ('markdown', 'html')),
    body TEXT NOT NULL,
    -- Sanitised HTML rendered when the body is saved, never per request.
    body_html TEXT NOT NULL
);
-- The public list: published, newest first, keyset on (published_at, id).
CREATE INDEX articles_public ON articles (status, published_at DESC, id DESC);
CREATE INDEX articles_category ON articles (category_id, status, published_at DESC, id DESC);
CREATE INDEX articles_scheduled ON articles (status, publish_at);
CREATE INDEX articles_views ON articles (status, view_count DESC, id DESC);

-- The byline, in order.
CREATE TABLE article_authors (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES authors (id) ON DELETE RESTRICT,
    position BIGINT NOT NULL,
    PRIMARY KEY (article_id, author_id)
);
CREATE INDEX article_authors_author ON article_authors (author_id, article_id);

CREATE TABLE article_tags (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (article_id, tag_id)
);
CREATE INDEX article_tags_tag ON article_tags (tag_id, article_id);

-- The content of every saved version, as JSON, so any version can be shown or restored.
CREATE TABLE article_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    content TEXT NOT NULL,
    edited_by BIGINT REFERENCES authors (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (article_id, version)
);
