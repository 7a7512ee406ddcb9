-- Folded text of every article (lower case, no diacritics, words separated by single spaces),
-- written by the server in the same transaction as the article. Folding happens in the
-- server, so readers' queries and stored text are folded by the same code.
--
-- `key` orders the rows newest first: for a published article it grows with `published_at`,
-- for any other it is below zero (see `search::key`). The full-text indexes use it as their
-- rowid, and FTS5 returns matches in rowid order, so "the newest matches" is read from the
-- index in order and stops after a page, instead of collecting and sorting every match.
CREATE TABLE article_search (
    key INTEGER PRIMARY KEY NOT NULL,
    article_id BIGINT NOT NULL UNIQUE REFERENCES articles (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL
);

-- The full-text indexes over it, holding no copy of the text (external content): everything,
-- the lead (title and summary) and the title alone. The small ones rank title and lead hits
-- first without reading the match lists of the whole text.
CREATE VIRTUAL TABLE article_fts USING fts5(
    title, summary, body,
    content = 'article_search',
    content_rowid = 'key',
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '1 2 3'
);
CREATE VIRTUAL TABLE article_lead_fts USING fts5(
    title, summary,
    content = 'article_search',
    content_rowid = 'key',
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '1 2 3'
);
CREATE VIRTUAL TABLE article_title_fts USING fts5(
    title,
    content = 'article_search',
    content_rowid = 'key',
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '1 2 3'
);

-- The triggers keep both indexes in step with article_search inside the writing transaction.
CREATE TRIGGER article_search_inserted AFTER INSERT ON article_search BEGIN
    INSERT INTO article_fts (rowid, title, summary, body)
        VALUES (new.key, new.title, new.summary, new.body);
    INSERT INTO article_lead_fts (rowid, title, summary)
        VALUES (new.key, new.title, new.summary);
    INSERT INTO article_title_fts (rowid, title) VALUES (new.key, new.title);
END;
CREATE TRIGGER article_search_deleted AFTER DELETE ON article_search BEGIN
    INSERT INTO article_fts (article_fts, rowid, title, summary, body)
        VALUES ('delete', old.key, old.title, old.summary, old.body);
    INSERT INTO article_lead_fts (article_lead_fts, rowid, title, summary)
        VALUES ('delete', old.key, old.title, old.summary);
    INSERT INTO article_title_fts (article_title_fts, rowid, title)
        VALUES ('delete', old.key, old.title);
END;
CREATE TRIGGER article_search_updated AFTER UPDATE ON article_search BEGIN
    INSERT INTO article_fts (article_fts, rowid, title, summary, body)
        VALUES ('delete', old.key, old.title, old.summary, old.body);
    INSERT INTO article_lead_fts (article_lead_fts, rowid, title, summary)
        VALUES ('delete', old.key, old.title, old.summary);
    INSERT INTO article_title_fts (article_title_fts, rowid, title)
        VALUES ('delete', old.key, old.title);
    INSERT INTO article_fts (rowid, title, summary, body)
        VALUES (new.key, new.title, new.summary, new.body);
    INSERT INTO article_lead_fts (rowid, title, summary)
        VALUES (new.key, new.title, new.summary);
    INSERT INTO article_title_fts (rowid, title) VALUES (new.key, new.title);
END;

-- Every indexed word longer than the indexed prefixes, so that a longer prefix typed as the
-- last word can be searched as the words it completes to (see `search::completions`).
-- Words are added, never removed: one that no article holds any more matches nothing.
CREATE TABLE search_terms (
    term TEXT PRIMARY KEY NOT NULL
) WITHOUT ROWID;
