DROP TABLE article_slugs;
DROP INDEX articles_featured;
DROP INDEX articles_unpublish;
ALTER TABLE articles DROP COLUMN was_public;
ALTER TABLE articles DROP COLUMN canonical_url;
ALTER TABLE articles DROP COLUMN noindex;
ALTER TABLE articles DROP COLUMN featured_rank;
ALTER TABLE articles DROP COLUMN featured;
ALTER TABLE articles DROP COLUMN unpublish_at;
