-- +goose Up
-- PostgreSQL's 00022 drops users_search_missing so that a rename can be a
-- HOT update there, and remembers in store_backfills that the users of
-- migration 00007 were filled. SQLite follows, so that store.Migrate reads
-- the same table on both (SQLite has no fill factor).
CREATE TABLE store_backfills (
    name TEXT PRIMARY KEY
);
INSERT INTO store_backfills (name)
    SELECT 'users_search' WHERE NOT EXISTS (SELECT 1 FROM users WHERE search IS NULL);
DROP INDEX users_search_missing;

-- +goose Down
CREATE INDEX users_search_missing ON users (id) WHERE search IS NULL;
DROP TABLE store_backfills;
