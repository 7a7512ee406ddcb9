-- A phrase's words are in GIN, their order is not: for "zalo pci", GIN hands over every
-- article holding both words and each document is read to test their positions (some 14 µs
-- a row), a second for 100,000 articles when the words are common and rarely meet. The words
-- next to each other in a document, as pairs, are what a phrase needs instead: an article
-- holding the phrase holds each pair of its adjacent words.
--
-- Computed from the document's positions, the pairs are exactly those `<->` would find, and
-- always those of the row's own document. They cost 2–5 ms an article to index, more than
-- the rest of an import together, so only rows with `paired` set are in the index. A row the
-- server writes one at a time is paired as it is written; the rows of a bulk import, which
-- bring their documents, and those already here, are paired later by the server in the
-- background (`search::pairs`), newest first. Until then a phrase search tests their
-- documents as before.
CREATE FUNCTION search_pairs(document tsvector) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT a.lexeme || ' ' || b.lexeme), '{}')
    FROM (SELECT lexeme, unnest(positions) AS at FROM unnest(document)) AS a
    JOIN (SELECT lexeme, unnest(positions) AS at FROM unnest(document)) AS b ON b.at = a.at + 1
    -- A GIN key may not exceed a third of a page; real words are far shorter.
    WHERE octet_length(a.lexeme) + octet_length(b.lexeme) < 200
$$;

ALTER TABLE article_search ADD COLUMN paired BOOLEAN NOT NULL DEFAULT false;
-- Compared byte by byte: an index of text in the database's collation goes wrong when the
-- system's collation rules change under it, and pairs of folded words need no language's order.
CREATE INDEX article_search_pairs ON article_search USING gin ((search_pairs(document)) COLLATE "C")
    WHERE paired;
CREATE INDEX article_search_unpaired ON article_search (key) WHERE NOT paired;

-- As in migration 000011, and a row whose documents the trigger computes is paired at once.
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
    NEW.paired := true;
    RETURN NEW;
END
$$;
