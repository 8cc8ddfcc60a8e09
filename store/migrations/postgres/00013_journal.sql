-- +goose Up
-- The change journal (SPEC §4.4): one entry per user an import (or an
-- admin's manual archive or restore) touched, written set-wise in the
-- transaction that applies it, or as a preview by a dry run or a held sync.
-- fields is a JSON list of {"column", "old", "new"} for an update; messages
-- a JSON list of strings for a failed row. Kept journal_retention.
CREATE TABLE changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    import_id TEXT,
    kind TEXT NOT NULL,
    external_id TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    line BIGINT,
    fields TEXT,
    messages TEXT,
    warnings TEXT,
    preview BOOLEAN NOT NULL DEFAULT FALSE,
    actor TEXT NOT NULL DEFAULT '',
    at TIMESTAMPTZ NOT NULL
);
-- An import's changes, a kind at a time, in the order they were written.
CREATE INDEX changes_import ON changes (import_id, kind, id);
-- A user's history: applied entries only (previews are not history).
CREATE INDEX changes_user ON changes (org_id, external_id, id) WHERE NOT preview;
-- Manual entries have no import: the retention sweep finds them by time.
CREATE INDEX changes_manual ON changes (at) WHERE import_id IS NULL;

-- Who made each import and who steered it (SPEC §5.1 import JSON).
ALTER TABLE imports ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN approved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN approved_at TIMESTAMPTZ;
ALTER TABLE imports ADD COLUMN cancelled_by TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN reverts TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN reverted_by TEXT NOT NULL DEFAULT '';
-- When the retention sweep deleted the import's journal (journal_retention).
ALTER TABLE imports ADD COLUMN journal_expired_at TIMESTAMPTZ;

-- Every other state change a person or client makes (settings, tokens,
-- SFTP accounts): who, when, what.
CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_org ON audit_log (org_id, action, id);

-- +goose Down
DROP TABLE audit_log;
ALTER TABLE imports DROP COLUMN journal_expired_at;
ALTER TABLE imports DROP COLUMN reverted_by;
ALTER TABLE imports DROP COLUMN reverts;
ALTER TABLE imports DROP COLUMN cancelled_by;
ALTER TABLE imports DROP COLUMN approved_at;
ALTER TABLE imports DROP COLUMN approved_by;
ALTER TABLE imports DROP COLUMN actor;
DROP TABLE changes;
