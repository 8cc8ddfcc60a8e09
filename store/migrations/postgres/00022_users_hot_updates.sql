-- +goose Up
-- A sync that changes a few fields of a few users (a name, a department)
-- should rewrite those rows in place: PostgreSQL's heap-only tuple (HOT)
-- update keeps the new version on the same page and writes no index entry,
-- where an ordinary update adds one to each of the table's seven indexes.
-- Two things stopped it:
--   * users_search_missing: an index whose predicate names search, and
--     every rename changes search, so no rename could be HOT. It found the
--     users to fill after migration 00007; store.Migrate now remembers in
--     store_backfills that they were filled (marked here when none is left)
--     and no longer looks;
--   * full pages: a first import packs users 100% (the default fill
--     factor), leaving no room on a page for a row's new version. At 90%,
--     an 8 kB page keeps room for about two renamed users.
-- Measured on a million users, 10,000 renamed in one UPDATE after a
-- checkpoint: 1.03 s and 216 MB of WAL before, 0.37 s and 71 MB after,
-- every update HOT. The fill factor applies to pages written from now on.
CREATE TABLE store_backfills (
    name TEXT PRIMARY KEY
);
INSERT INTO store_backfills (name)
    SELECT 'users_search' WHERE NOT EXISTS (SELECT 1 FROM users WHERE search IS NULL);
DROP INDEX users_search_missing;
ALTER TABLE users SET (fillfactor = 90);

-- +goose Down
ALTER TABLE users RESET (fillfactor);
CREATE INDEX users_search_missing ON users (id) WHERE search IS NULL;
DROP TABLE store_backfills;
