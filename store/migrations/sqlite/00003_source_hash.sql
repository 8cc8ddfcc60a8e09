-- +goose Up
-- The fingerprint of the file row (with its header, mode and the settings it
-- was read with) that last wrote the user; NULL once anything else changed
-- the user. A sync that sees the same row again skips it without validating.
ALTER TABLE users ADD COLUMN source_hash TEXT;

-- +goose Down
ALTER TABLE users DROP COLUMN source_hash;
