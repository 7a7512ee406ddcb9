-- What a sitemap lists, in its order: public articles by id, without those kept out of
-- search engines and syndicated copies. `noindex` and `canonical_url` were added after the
-- bodies (000008), so filtering on them from the table reads every row's overflow pages: at
-- a million articles one sitemap page took seconds. The index answers the count and skips to
-- a page without touching the table; only the page's own rows are read from it.
CREATE INDEX articles_sitemap ON articles (status, noindex, id, published_at)
    WHERE canonical_url IS NULL;
