-- +goose Up
-- The header a full import read, as a JSON list of its cells as written
-- (SPEC §2.1, header drift): the next full sync compares its own with the
-- last applied one's and names the columns that went missing or appeared.
-- '' for imports made before this migration and for those that never read
-- a header.
ALTER TABLE imports ADD COLUMN header TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE imports DROP COLUMN header;
