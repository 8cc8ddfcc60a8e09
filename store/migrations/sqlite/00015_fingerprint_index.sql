-- +goose Up
-- Every sync first reads the fingerprints of the organisation's active users
-- (importer.loadKnownRows). From the users table, that read walked every
-- user's wide row; this partial index holds just what it asks (the
-- fingerprint, and the archive date that says whether it may be trusted),
-- so the read is a walk of a narrow covering index: a re-sync of an
-- unchanged roster reads some fifty bytes a user instead of the whole row.
-- Users without a fingerprint, and archived ones, are not in it.
--
-- Keyed by id after org_id, not by the fingerprint: users are written in id
-- order, so a first import appends to this index. Keyed by the fingerprint
-- (a hash, random), a million-row first import inserted all over it: some
-- 50 s more on a busy 2-core machine. The sync sorts the fingerprints itself.
CREATE INDEX users_org_source_hash ON users (org_id, id, source_hash, archived_at)
    WHERE status = 'active' AND source_hash IS NOT NULL;

-- +goose Down
DROP INDEX users_org_source_hash;
