-- +goose Up
-- The errors CSV of an SFTP import as /errors/ serves it when the
-- organisation has a sender_pgp_key (SPEC §5.2, §6): encrypted to that key
-- and stored, so that a listing's size is the size a client then reads
-- (each encryption differs). errors_pgp_key is the fingerprint it was
-- encrypted to, errors_pgp_source the errors CSV it was made from: when
-- either is no longer the current one, it is made again.
ALTER TABLE imports ADD COLUMN errors_pgp_file_id INTEGER REFERENCES files(id);
ALTER TABLE imports ADD COLUMN errors_pgp_key TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN errors_pgp_source INTEGER;
CREATE INDEX imports_errors_pgp_file ON imports (errors_pgp_file_id) WHERE errors_pgp_file_id IS NOT NULL;

-- +goose Down
DROP INDEX imports_errors_pgp_file;
ALTER TABLE imports DROP COLUMN errors_pgp_source;
ALTER TABLE imports DROP COLUMN errors_pgp_key;
ALTER TABLE imports DROP COLUMN errors_pgp_file_id;
