-- SQLite's search indexes became contentless in this version (see its migration); the
-- PostgreSQL schema is unchanged, as both backends keep the same list of versions. Its
-- folded text is what the generated `tsvector` columns are computed from.
SELECT 1;
