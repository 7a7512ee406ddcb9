-- Folded text of every article (lower case, no diacritics, words separated by single spaces),
-- written by the server in the same transaction as the article. Folding happens in the
-- server, so readers' queries and stored text are folded by the same code; the `simple`
-- configuration then only splits words, with no stemming or stop words.
CREATE TABLE article_search (
    article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    -- Weights rank title hits (A) above the lead (B) above the body (C).
    document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A')
        || setweight(to_tsvector('simple', summary), 'B')
        || setweight(to_tsvector('simple', body), 'C')
    ) STORED
);
CREATE INDEX article_search_document ON article_search USING GIN (document);
