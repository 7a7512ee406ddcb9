DROP TABLE article_media;
DROP TABLE media;
