DROP TABLE search_terms;
DROP TRIGGER article_search_updated;
DROP TRIGGER article_search_deleted;
DROP TRIGGER article_search_inserted;
DROP TABLE article_title_fts;
DROP TABLE article_lead_fts;
DROP TABLE article_fts;
DROP TABLE article_search;
