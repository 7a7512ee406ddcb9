-- Folded text of every article (lower case, no diacritics, words separated by single spaces),
-- written by the server in the same transaction as the article. Folding happens in the
-- server, so readers' queries and stored text are folded by the same code.
CREATE TABLE article_search (
    article_id INTEGER PRIMARY KEY NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL
);

-- The full-text index over it, holding no copy of the text (external content). The triggers
-- keep it in step with article_search inside the writing transaction.
CREATE VIRTUAL TABLE article_fts USING fts5(
    title, summary, body,
    content = 'article_search',
    content_rowid = 'article_id',
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3'
);

CREATE TRIGGER article_search_inserted AFTER INSERT ON article_search BEGIN
    INSERT INTO article_fts (rowid, title, summary, body)
        VALUES (new.article_id, new.title, new.summary, new.body);
END;
CREATE TRIGGER article_search_deleted AFTER DELETE ON article_search BEGIN
    INSERT INTO article_fts (article_fts, rowid, title, summary, body)
        VALUES ('delete', old.article_id, old.title, old.summary, old.body);
END;
CREATE TRIGGER article_search_updated AFTER UPDATE ON article_search BEGIN
    INSERT INTO article_fts (article_fts, rowid, title, summary, body)
        VALUES ('delete', old.article_id, old.title, old.summary, old.body);
    INSERT INTO article_fts (rowid, title, summary, body)
        VALUES (new.article_id, new.title, new.summary, new.body);
END;
