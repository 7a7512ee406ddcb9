-- Each article's byline, tags and covers as one row of ids, rewritten with the link tables
-- in the same transaction: a list reads one row per article by its key instead of the rows
-- of three tables. `ids` is `authors;tags;covers`, each a comma-separated list: the byline
-- in its order, tags by id, covers by position.
CREATE TABLE article_links (
    article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    ids TEXT NOT NULL
);
INSERT INTO article_links (article_id, ids)
SELECT a.id,
    coalesce((SELECT string_agg(l.author_id::text, ',' ORDER BY l.position)
        FROM article_authors l WHERE l.article_id = a.id), '')
    || ';' || coalesce((SELECT string_agg(l.tag_id::text, ',' ORDER BY l.tag_id)
        FROM article_tags l WHERE l.article_id = a.id), '')
    || ';' || coalesce((SELECT string_agg(l.media_id::text, ',' ORDER BY l.position)
        FROM article_media l WHERE l.article_id = a.id AND l.role = 'cover'), '')
FROM articles a;
