-- What a sitemap lists, in its order: public articles by id, without those kept out of
-- search engines and syndicated copies. The index answers the count and skips to a page
-- (index-only once the table is vacuumed) instead of scanning the table.
CREATE INDEX articles_sitemap ON articles (status, noindex, id, published_at)
    WHERE canonical_url IS NULL;
