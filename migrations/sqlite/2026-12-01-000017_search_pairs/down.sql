-- PostgreSQL indexes the adjacent words of its search documents in this version (see its
-- migration); SQLite's FTS5 keeps word positions in its own index and has nothing to add.
-- Both backends keep the same versions.
SELECT 1;
