-- An FTS5 index buffers new text in memory, up to `hashsize` bytes (1 MB by default), then
-- writes it out as a new segment, and merges segments as they pile up. An import writes a
-- batch of a thousand articles, several megabytes of text, in one statement per index: at 1 MB
-- that made several small segments per batch, and merging them was a large part of the
-- import's time. Writes of one article are far below either size, so the server's other
-- writes are unchanged. (PostgreSQL's search documents changed in this version too; both
-- backends keep the same list of versions.)
INSERT INTO article_fts (article_fts, rank) VALUES ('hashsize', 16777216);
INSERT INTO article_lead_fts (article_lead_fts, rank) VALUES ('hashsize', 16777216);
INSERT INTO article_title_fts (article_title_fts, rank) VALUES ('hashsize', 16777216);
