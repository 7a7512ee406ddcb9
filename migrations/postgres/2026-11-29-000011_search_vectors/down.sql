DROP TRIGGER article_search_vectors ON article_search;
DROP FUNCTION article_search_vectors();
DROP INDEX article_search_document;
DROP INDEX article_search_lead;
DROP INDEX article_search_heading;
ALTER TABLE article_search DROP COLUMN document, DROP COLUMN lead, DROP COLUMN heading;
ALTER TABLE article_search
    ADD COLUMN document tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', title) || to_tsvector('simple', summary)
        || to_tsvector('simple', body)
    ) STORED,
    ADD COLUMN lead tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', title) || to_tsvector('simple', summary)
    ) STORED,
    ADD COLUMN heading tsvector GENERATED ALWAYS AS (to_tsvector('simple', title)) STORED;
CREATE INDEX article_search_document ON article_search USING GIN (document);
CREATE INDEX article_search_lead ON article_search USING GIN (lead);
CREATE INDEX article_search_heading ON article_search USING GIN (heading);
