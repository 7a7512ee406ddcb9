-- Folded text of every article (lower case, no diacritics, words separated by single spaces),
-- written by the server in the same transaction as the article. Folding happens in the
-- server, so readers' queries and stored text are folded by the same code; the `simple`
-- configuration then only splits words, with no stemming or stop words.
--
-- `key` orders the rows newest first: for a published article it grows with `published_at`,
-- for any other it is below zero (see `search::key`). Walking `article_search_key` backwards
-- and testing each row finds the newest matches of a common word without collecting and
-- sorting all of them; the GIN indexes serve rare words. The planner picks per query. The
-- lead (title and summary) and the title have their own small documents, so ranking their
-- hits first reads little.
CREATE TABLE article_search (
    article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    key BIGINT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    document tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', title) || to_tsvector('simple', summary)
        || to_tsvector('simple', body)
    ) STORED,
    lead tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', title) || to_tsvector('simple', summary)
    ) STORED,
    heading tsvector GENERATED ALWAYS AS (to_tsvector('simple', title)) STORED
);
CREATE UNIQUE INDEX article_search_key ON article_search (key);
CREATE INDEX article_search_document ON article_search USING GIN (document);
CREATE INDEX article_search_lead ON article_search USING GIN (lead);
CREATE INDEX article_search_heading ON article_search USING GIN (heading);
