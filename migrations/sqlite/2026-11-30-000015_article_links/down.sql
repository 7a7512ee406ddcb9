DROP TABLE article_links;
