-- +goose Up
-- What user search compares: the names, e-mails and id folded in Go
-- (store.SearchText: no accents, lower case), so that SQLite and PostgreSQL
-- find the same users. Every writer of those fields writes it; rows from
-- before this migration are NULL until store.Migrate fills them, which the
-- partial index finds at once (and holds nothing once they are filled).
ALTER TABLE users ADD COLUMN search TEXT;
CREATE INDEX users_search_missing ON users (id) WHERE search IS NULL;

-- +goose Down
DROP INDEX users_search_missing;
ALTER TABLE users DROP COLUMN search;
