DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression') THEN
        ALTER TABLE articles ALTER COLUMN body SET COMPRESSION default,
            ALTER COLUMN body_html SET COMPRESSION default;
        ALTER TABLE article_revisions ALTER COLUMN content SET COMPRESSION default;
        ALTER TABLE article_search ALTER COLUMN body SET COMPRESSION default,
            ALTER COLUMN document SET COMPRESSION default;
    END IF;
END
$$;
