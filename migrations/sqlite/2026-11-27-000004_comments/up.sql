-- Reader comments and staff replies. Phone, email, the client hash and the user agent are for
-- moderators only; the public listing never selects them.
CREATE TABLE comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    -- Replies: the comment answered, and the top-level comment of the thread, so a page of
    -- threads loads with one query whatever the depth.
    parent_id BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    root_id BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'spam')),
    is_staff BOOLEAN NOT NULL DEFAULT 0,
    author_id BIGINT REFERENCES authors (id) ON DELETE SET NULL,
    -- A keyed hash of the client address (never the address itself).
    client_hash TEXT NOT NULL,
    user_agent TEXT,
    -- SHA-256 of the folded content, to refuse the same text from the same client twice.
    content_hash TEXT NOT NULL,
    -- Spam signals found at submission, for the moderator (`links:2`, `word:ca do`, …).
    flags TEXT,
    -- Name, title, content, phone and email without case or diacritics, for the desk's search.
    search_text TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX comments_public ON comments (article_id, status, parent_id, created_at, id);
CREATE INDEX comments_thread ON comments (root_id, status, created_at, id);
CREATE INDEX comments_parent ON comments (parent_id);
CREATE INDEX comments_desk ON comments (status, created_at DESC, id DESC);
CREATE INDEX comments_client ON comments (client_hash, created_at);
-- The duplicate check looks a text up by its hash, however many comments its client sent.
CREATE INDEX comments_content ON comments (content_hash);

-- Every status change, by whom and why; the automatic ones have no moderator.
CREATE TABLE comment_moderations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    from_status TEXT,
    to_status TEXT NOT NULL,
    moderator_id BIGINT REFERENCES authors (id) ON DELETE SET NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX comment_moderations_comment ON comment_moderations (comment_id, id);

-- Captcha tokens are stateless until spent; a spent nonce is kept until its token expires.
CREATE TABLE captcha_spent (
    nonce TEXT PRIMARY KEY,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX captcha_spent_expiry ON captcha_spent (expires_at);
