-- The media library: one row per upload. Files live in the media store under
-- content-addressed keys, so two uploads of the same bytes share their files and a row may
-- be deleted without touching files another row still names.
CREATE TABLE media (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('image', 'document')),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    width BIGINT,
    height BIGINT,
    alt TEXT,
    caption TEXT,
    credit TEXT,
    title TEXT,
    -- The key of the served full-size file (for images, the stripped rendition).
    storage_key TEXT NOT NULL,
    -- The resized renditions as JSON: [{"width", "height", "format", "key"}], smallest first.
    variants TEXT NOT NULL,
    -- Filename, alt, caption and title folded (lower case, no diacritics) for search.
    folded TEXT NOT NULL,
    uploaded_by BIGINT REFERENCES authors (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX media_newest ON media (created_at, id);
CREATE INDEX media_sha256 ON media (sha256);
CREATE INDEX media_uploaded_by ON media (uploaded_by);

-- Which articles use which files, and how: the cover, the ordered attachments, and images
-- the body shows. Rewritten whole when an article's content is saved; a file named here
-- cannot be deleted.
CREATE TABLE article_media (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    media_id BIGINT NOT NULL REFERENCES media (id),
    role TEXT NOT NULL CHECK (role IN ('cover', 'attachment', 'body')),
    position BIGINT NOT NULL,
    PRIMARY KEY (article_id, role, position)
);
CREATE INDEX article_media_media ON article_media (media_id);
