-- +goose Up
-- The order of an organisation's imports, and of the files in its SFTP
-- /in/, is the database's, not a daemon's clock: ids and modification times
-- carry the clock of the daemon that accepted the file, and two daemons
-- whose clocks differ would otherwise reorder them (issue 19, item 12).
-- seq is handed out when the row is written: on SQLite, whose writers take
-- turns, one more than the largest; on PostgreSQL from a sequence. Rows
-- that predate it are numbered in the order they had: imports by id, /in/
-- by modification time, then id.
ALTER TABLE imports ADD COLUMN seq INTEGER;
UPDATE imports SET seq = r.n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM imports) AS r
    WHERE imports.id = r.id;
CREATE UNIQUE INDEX imports_seq ON imports (seq);
CREATE INDEX imports_org_seq ON imports (org_id, seq);

-- A rename into place counts as arriving: it takes a new seq.
ALTER TABLE sftp_inbox ADD COLUMN seq INTEGER;
UPDATE sftp_inbox SET seq = r.n FROM (SELECT id, row_number() OVER (ORDER BY modified_at, id) AS n FROM sftp_inbox) AS r
    WHERE sftp_inbox.id = r.id;

-- +goose Down
ALTER TABLE sftp_inbox DROP COLUMN seq;
DROP INDEX imports_org_seq;
DROP INDEX imports_seq;
ALTER TABLE imports DROP COLUMN seq;
