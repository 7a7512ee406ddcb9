-- PostgreSQL's search documents became trigger-kept columns in this version (see its
-- migration); both backends keep the same list of versions.
SELECT 1;
