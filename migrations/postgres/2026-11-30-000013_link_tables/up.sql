-- SQLite stores the link tables by their keys from this version (see its migration); a
-- PostgreSQL table is a heap with the key's index either way. Both backends keep the same
-- versions.
SELECT 1;
