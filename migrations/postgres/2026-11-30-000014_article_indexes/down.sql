DROP INDEX articles_unpublish;
CREATE INDEX articles_unpublish ON articles (status, unpublish_at);
DROP INDEX articles_scheduled;
CREATE INDEX articles_scheduled ON articles (status, publish_at);
DROP INDEX articles_category;
CREATE INDEX articles_category ON articles (category_id, status, published_at DESC, id DESC);
