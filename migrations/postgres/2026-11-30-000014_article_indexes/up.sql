-- An article page shows up to five newer and five older articles of its category, each by its
-- slug and title: with those two in the category's index, the walks can be answered from the
-- index alone (for pages the visibility map marks all-visible, as vacuum leaves them).
DROP INDEX articles_category;
CREATE INDEX articles_category ON articles (category_id, status, published_at DESC, id DESC)
    INCLUDE (slug, title);

-- The scheduler looks for due times only: the articles without one (nearly all, imports
-- included) need no entries. `publish_at <= $1` implies a time, so the lookups keep these
-- indexes.
DROP INDEX articles_scheduled;
CREATE INDEX articles_scheduled ON articles (status, publish_at) WHERE publish_at IS NOT NULL;
DROP INDEX articles_unpublish;
CREATE INDEX articles_unpublish ON articles (status, unpublish_at) WHERE unpublish_at IS NOT NULL;
