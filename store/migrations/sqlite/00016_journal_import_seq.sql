-- +goose Up
-- The journal's link to its import is the import's seq (8 bytes), not its
-- 30-character text id, and changes.org_id no longer checks organisations:
-- a first import of a million users writes a million entries, and the text
-- key in every row and in changes_import, and the foreign-key check made
-- once a row, were a good part of what the journal cost (issue 18 §7: the
-- journal adds at most 10% to a first import). Organisations are never
-- deleted, and the only writer of an entry, the import (or the manual
-- action) of that organisation, has just read it. SQLite drops a foreign
-- key only by rebuilding the table.
CREATE TABLE changes_new (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL,
    import_seq INTEGER,
    kind TEXT NOT NULL,
    external_id TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    line INTEGER,
    fields TEXT,
    messages TEXT,
    warnings TEXT,
    preview INTEGER NOT NULL DEFAULT 0,
    actor TEXT NOT NULL DEFAULT '',
    at TIMESTAMP NOT NULL
);
INSERT INTO changes_new (id, org_id, import_seq, kind, external_id, first_name, last_name, line, fields, messages,
    warnings, preview, actor, at)
SELECT c.id, c.org_id, i.seq, c.kind, c.external_id, c.first_name, c.last_name, c.line, c.fields, c.messages,
    c.warnings, c.preview, c.actor, c.at
FROM changes c LEFT JOIN imports i ON i.id = c.import_id;
DROP TABLE changes;
ALTER TABLE changes_new RENAME TO changes;
-- An import's changes, a kind at a time, in the order they were written.
CREATE INDEX changes_import ON changes (import_seq, kind, id);
-- A user's history: applied entries only (previews are not history).
CREATE INDEX changes_user ON changes (org_id, external_id, id) WHERE preview = 0;
-- Manual entries have no import: the retention sweep finds them by time.
CREATE INDEX changes_manual ON changes (at) WHERE import_seq IS NULL;

-- +goose Down
CREATE TABLE changes_old (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    import_id TEXT,
    kind TEXT NOT NULL,
    external_id TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    line INTEGER,
    fields TEXT,
    messages TEXT,
    warnings TEXT,
    preview INTEGER NOT NULL DEFAULT 0,
    actor TEXT NOT NULL DEFAULT '',
    at TIMESTAMP NOT NULL
);
INSERT INTO changes_old (id, org_id, import_id, kind, external_id, first_name, last_name, line, fields, messages,
    warnings, preview, actor, at)
SELECT c.id, c.org_id, i.id, c.kind, c.external_id, c.first_name, c.last_name, c.line, c.fields, c.messages,
    c.warnings, c.preview, c.actor, c.at
FROM changes c LEFT JOIN imports i ON i.seq = c.import_seq;
DROP TABLE changes;
ALTER TABLE changes_old RENAME TO changes;
CREATE INDEX changes_import ON changes (import_id, kind, id);
CREATE INDEX changes_user ON changes (org_id, external_id, id) WHERE preview = 0;
CREATE INDEX changes_manual ON changes (at) WHERE import_id IS NULL;
