DROP INDEX articles_changed;
