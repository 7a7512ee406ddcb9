CREATE OR REPLACE FUNCTION article_search_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
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

DROP INDEX article_search_unpaired;
DROP INDEX article_search_pairs;
ALTER TABLE article_search DROP COLUMN paired;
DROP FUNCTION search_pairs(tsvector);
