-- PostgreSQL's texts change their compression in this version (see its migration); SQLite
-- stores text uncompressed and has nothing to change. Both backends keep the same versions.
SELECT 1;
