-- +goose Up
-- The order of an organisation's imports, and of the files in its SFTP
-- /in/, is the database's, not a daemon's clock: ids and modification times
-- carry the clock of the daemon that accepted the file, and two daemons
-- whose clocks differ would otherwise reorder them (issue 19, item 12).
-- seq is handed out from a sequence when the row is written (on SQLite, one
-- more than the largest). Rows that predate it are numbered in the order
-- they had: imports by id, /in/ by modification time, then id.
ALTER TABLE imports ADD COLUMN seq BIGINT;
UPDATE imports SET seq = r.n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM imports) AS r
    WHERE imports.id = r.id;
CREATE SEQUENCE imports_seq_seq OWNED BY imports.seq;
SELECT setval('imports_seq_seq', COALESCE((SELECT MAX(seq) FROM imports), 0) + 1, false);
ALTER TABLE imports ALTER COLUMN seq SET DEFAULT nextval('imports_seq_seq'), ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX imports_seq ON imports (seq);
CREATE INDEX imports_org_seq ON imports (org_id, seq);

-- A rename into place counts as arriving: it takes a new seq.
ALTER TABLE sftp_inbox ADD COLUMN seq BIGINT;
UPDATE sftp_inbox SET seq = r.n FROM (SELECT id, row_number() OVER (ORDER BY modified_at, id) AS n FROM sftp_inbox) AS r
    WHERE sftp_inbox.id = r.id;
CREATE SEQUENCE sftp_inbox_seq_seq OWNED BY sftp_inbox.seq;
SELECT setval('sftp_inbox_seq_seq', COALESCE((SELECT MAX(seq) FROM sftp_inbox), 0) + 1, false);
ALTER TABLE sftp_inbox ALTER COLUMN seq SET DEFAULT nextval('sftp_inbox_seq_seq'), ALTER COLUMN seq SET NOT NULL;

-- +goose Down
ALTER TABLE sftp_inbox DROP COLUMN seq;
DROP INDEX imports_org_seq;
DROP INDEX imports_seq;
ALTER TABLE imports DROP COLUMN seq;
