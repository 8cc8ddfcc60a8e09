-- +goose Up
-- The fingerprint of the file row (with its header, mode and the settings it
-- was read with) that last wrote the user; NULL once anything else changed
-- the user. A sync that sees the same row again skips it without validating.
ALTER TABLE users ADD COLUMN source_hash TEXT;

-- Small partial indexes for what every sync asks: which leavers' day has
-- come, and which users are archived (a manager may not be one). They hold
-- only those few users, so they cost the million-row import nothing.
CREATE INDEX users_org_leaving ON users (org_id, archived_at) WHERE status = 'active' AND archived_at IS NOT NULL;
CREATE INDEX users_org_archived ON users (org_id, external_id) WHERE status = 'archived';

-- Uploads are compressed with lz4 where the server has it (PostgreSQL 14 and
-- later, built with lz4, as Debian's is): pglz, the default, took longer to
-- compress a 200 MiB roster when it was accepted, and to decompress it each
-- time it was read, than the import's own checks. Elsewhere nothing changes.
-- +goose StatementBegin
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        EXECUTE 'ALTER TABLE file_chunks ALTER COLUMN data SET COMPRESSION lz4';
    END IF;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value OR syntax_error THEN
    NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX users_org_archived;
DROP INDEX users_org_leaving;
ALTER TABLE users DROP COLUMN source_hash;
