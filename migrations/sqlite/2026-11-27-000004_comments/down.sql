DROP TABLE captcha_spent;
DROP TABLE comment_moderations;
DROP TABLE comments;
