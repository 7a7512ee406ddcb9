-- The editorial desk's moves.

-- Embargo end: the scheduler takes the article back to draft at this time.
ALTER TABLE articles ADD COLUMN unpublish_at TIMESTAMP;
-- "Featured news": lower ranks first, then newest.
ALTER TABLE articles ADD COLUMN featured BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE articles ADD COLUMN featured_rank BIGINT NOT NULL DEFAULT 0;
-- Search engines: keep this article out of indexes and sitemaps, or name the original of a
-- syndicated copy.
ALTER TABLE articles ADD COLUMN noindex BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE articles ADD COLUMN canonical_url TEXT;
-- Whether readers ever saw the article: only then does a slug change keep the old slug.
-- `published_at` is cleared by unpublishing, so it cannot tell.
ALTER TABLE articles ADD COLUMN was_public BOOLEAN NOT NULL DEFAULT false;
UPDATE articles SET was_public = true WHERE published_at IS NOT NULL OR status = 'published';

CREATE INDEX articles_unpublish ON articles (status, unpublish_at);
CREATE INDEX articles_featured ON articles (featured, status, featured_rank, published_at DESC, id DESC);

-- Slugs an article had while public, answered with a redirect to the current one. A slug is
-- either an article's current slug or in here, never both (checked when either is written).
CREATE TABLE article_slugs (
    slug TEXT PRIMARY KEY NOT NULL,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX article_slugs_article ON article_slugs (article_id);
