-- Back to the external-content indexes over a table of folded text. That text is not kept
-- by the contentless indexes, so the table starts empty and the next start indexes every
-- article again (`search::index_missing`).
DROP TRIGGER article_search_deleted;
DROP TABLE article_fts;
DROP TABLE article_lead_fts;
DROP TABLE article_title_fts;
DROP TABLE article_search;

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
