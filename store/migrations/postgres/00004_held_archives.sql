-- +goose Up
-- The held state is data: why the sync was held, which newer import
-- superseded it, and (below) exactly whom it would archive, so that an
-- approval never archives someone nobody was shown.
ALTER TABLE imports ADD COLUMN hold_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN superseded_by TEXT NOT NULL DEFAULT '';

CREATE TABLE import_archives (
    import_id TEXT NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    external_id TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    business_email TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (import_id, user_id)
);
-- The list is read by external id, a page at a time (e-mail, CLI, API).
CREATE INDEX import_archives_by_external_id ON import_archives (import_id, external_id);

-- +goose Down
DROP INDEX import_archives_by_external_id;
DROP TABLE import_archives;
ALTER TABLE imports DROP COLUMN superseded_by;
ALTER TABLE imports DROP COLUMN hold_reason;
