-- Search without a second copy of every article's text. The full-text indexes become
-- contentless (FTS5 keeps only the index, `contentless_delete` lets a row be removed by its
-- rowid alone), and `article_search` keeps only the key ↔ article pairs: the folded title,
-- summary and body were a fifth of the database. The server writes the indexes itself, in
-- the transaction that saves the article (see `search::index`).
--
-- Only the index of the whole text keeps a prefix index, of one letter: prefixes of two
-- letters and more are searched as the words they complete to (`search_terms`, see
-- `search::completions`), so the index no longer holds every word three more times. The lead
-- and the title are a few words per article, whose prefixes are cheap to merge.
--
-- Folding is the server's (Rust), so SQL cannot refill the new indexes: the emptied
-- `article_search` makes the next start index every article again (`search::index_missing`,
-- logged as "indexed articles for search"), before the server answers.
DROP TRIGGER article_search_inserted;
DROP TRIGGER article_search_deleted;
DROP TRIGGER article_search_updated;
DROP TABLE article_fts;
DROP TABLE article_lead_fts;
DROP TABLE article_title_fts;
DROP TABLE article_search;

CREATE TABLE article_search (
    key INTEGER PRIMARY KEY NOT NULL,
    article_id BIGINT NOT NULL UNIQUE REFERENCES articles (id) ON DELETE CASCADE
);

CREATE VIRTUAL TABLE article_fts USING fts5(
    title, summary, body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '1'
);
CREATE VIRTUAL TABLE article_lead_fts USING fts5(
    title, summary,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE VIRTUAL TABLE article_title_fts USING fts5(
    title,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- A deleted article (or a row the server replaces) leaves the indexes with its key, which
-- is their rowid.
CREATE TRIGGER article_search_deleted AFTER DELETE ON article_search BEGIN
    DELETE FROM article_fts WHERE rowid = old.key;
    DELETE FROM article_lead_fts WHERE rowid = old.key;
    DELETE FROM article_title_fts WHERE rowid = old.key;
END;
