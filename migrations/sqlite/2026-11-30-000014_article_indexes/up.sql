-- An article page shows up to five newer and five older articles of its category, each by its
-- slug and title. With those two in the category's index the walks read only the index: a
-- few neighbouring entries, instead of a row per neighbour scattered over the table, which
-- on a large archive is a read of a page from the file each.
DROP INDEX articles_category;
CREATE INDEX articles_category ON articles (category_id, status, published_at DESC, id DESC, slug, title);

-- The scheduler looks for due times only: the articles without one (nearly all, imports
-- included) need no entries. `publish_at <= ?` implies a time, so the lookups keep these
-- indexes.
DROP INDEX articles_scheduled;
CREATE INDEX articles_scheduled ON articles (status, publish_at) WHERE publish_at IS NOT NULL;
DROP INDEX articles_unpublish;
CREATE INDEX articles_unpublish ON articles (status, unpublish_at) WHERE unpublish_at IS NOT NULL;
