INSERT INTO article_fts (article_fts, rank) VALUES ('hashsize', 1048576);
INSERT INTO article_lead_fts (article_lead_fts, rank) VALUES ('hashsize', 1048576);
INSERT INTO article_title_fts (article_title_fts, rank) VALUES ('hashsize', 1048576);
