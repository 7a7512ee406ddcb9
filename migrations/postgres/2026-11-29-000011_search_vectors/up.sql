-- The search documents are no longer generated columns but kept by a trigger, with the same
-- expressions, unless the row brings them: a bulk import computes them itself (see
-- `search::vectors`), which takes most of the work of an insert off the database's one
-- process per connection (`to_tsvector` over a body was more than half of an import's time).
-- Rows written by the server one at a time bring none, and the trigger computes them as the
-- generated columns did; an update that changes the text computes them again.
ALTER TABLE article_search ALTER COLUMN document DROP EXPRESSION;
ALTER TABLE article_search ALTER COLUMN lead DROP EXPRESSION;
ALTER TABLE article_search ALTER COLUMN heading DROP EXPRESSION;

CREATE FUNCTION article_search_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.document IS NOT NULL AND NEW.lead IS NOT NULL
        AND NEW.heading IS NOT NULL THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.title IS NOT DISTINCT FROM OLD.title
        AND NEW.summary IS NOT DISTINCT FROM OLD.summary AND NEW.body IS NOT DISTINCT FROM OLD.body THEN
        RETURN NEW;
    END IF;
    NEW.document := to_tsvector('simple', NEW.title) || to_tsvector('simple', NEW.summary)
        || to_tsvector('simple', NEW.body);
    NEW.lead := to_tsvector('simple', NEW.title) || to_tsvector('simple', NEW.summary);
    NEW.heading := to_tsvector('simple', NEW.title);
    RETURN NEW;
END
$$;

CREATE TRIGGER article_search_vectors BEFORE INSERT OR UPDATE ON article_search
    FOR EACH ROW EXECUTE FUNCTION article_search_vectors();
