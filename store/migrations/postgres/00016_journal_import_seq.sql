-- +goose Up
-- The journal's link to its import is the import's seq (8 bytes), not its
-- 30-character text id, and changes.org_id no longer checks organisations:
-- a first import of a million users writes a million entries, and the text
-- key in every row and in changes_import, and the foreign-key trigger fired
-- once a row, were a third of what the journal cost (issue 18 §7: the
-- journal adds at most 10% to a first import). Organisations are never
-- deleted, and the only writer of an entry, the import (or the manual
-- action) of that organisation, has just read it.
ALTER TABLE changes ADD COLUMN import_seq BIGINT;
UPDATE changes SET import_seq = i.seq FROM imports i WHERE i.id = changes.import_id;
DROP INDEX changes_import;
DROP INDEX changes_manual;
ALTER TABLE changes DROP CONSTRAINT changes_org_id_fkey;
ALTER TABLE changes DROP COLUMN import_id;
-- An import's changes, a kind at a time, in the order they were written.
CREATE INDEX changes_import ON changes (import_seq, kind, id);
-- Manual entries have no import: the retention sweep finds them by time.
CREATE INDEX changes_manual ON changes (at) WHERE import_seq IS NULL;

-- +goose Down
ALTER TABLE changes ADD COLUMN import_id TEXT;
UPDATE changes SET import_id = i.id FROM imports i WHERE i.seq = changes.import_seq;
DROP INDEX changes_import;
DROP INDEX changes_manual;
ALTER TABLE changes DROP COLUMN import_seq;
ALTER TABLE changes ADD CONSTRAINT changes_org_id_fkey FOREIGN KEY (org_id) REFERENCES organisations(id);
CREATE INDEX changes_import ON changes (import_id, kind, id);
CREATE INDEX changes_manual ON changes (at) WHERE import_id IS NULL;
