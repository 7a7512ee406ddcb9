-- Each article's byline, tags and covers as one row of ids, rewritten with the link tables
-- in the same transaction: a list reads one row per article by its key instead of a range of
-- each of three tables. `ids` is `authors;tags;covers`, each a comma-separated list: the
-- byline in its order, tags by id, covers by position.
CREATE TABLE article_links (
    article_id INTEGER PRIMARY KEY NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    ids TEXT NOT NULL
);
INSERT INTO article_links (article_id, ids)
SELECT a.id,
    coalesce((SELECT group_concat(l.author_id, ',' ORDER BY l.position)
        FROM article_authors l WHERE l.article_id = a.id), '')
    || ';' || coalesce((SELECT group_concat(l.tag_id, ',' ORDER BY l.tag_id)
        FROM article_tags l WHERE l.article_id = a.id), '')
    || ';' || coalesce((SELECT group_concat(l.media_id, ',' ORDER BY l.position)
        FROM article_media l WHERE l.article_id = a.id AND l.role = 'cover'), '')
FROM articles a;
