-- +goose Up
-- An upload is stored chunk by chunk in short transactions, so its file row
-- exists before it is complete: completed_at stays NULL until the last chunk
-- is in, and updated_at moves with every chunk, so the retention sweep can
-- tell an upload still streaming from one its process abandoned.
ALTER TABLE files ADD COLUMN completed_at TIMESTAMPTZ;
ALTER TABLE files ADD COLUMN updated_at TIMESTAMPTZ;
UPDATE files SET completed_at = created_at, updated_at = created_at;

-- When the retention sweep deleted the import's stored files (file_retention).
ALTER TABLE imports ADD COLUMN files_expired_at TIMESTAMPTZ;

-- What the sweep asks: finished imports whose files are still kept, and
-- whether any import still refers to a file.
CREATE INDEX imports_files_kept ON imports (finished_at) WHERE files_expired_at IS NULL;
CREATE INDEX imports_file ON imports (file_id);
CREATE INDEX imports_errors_file ON imports (errors_file_id) WHERE errors_file_id IS NOT NULL;
CREATE INDEX files_updated ON files (updated_at);

-- +goose Down
DROP INDEX files_updated;
DROP INDEX imports_errors_file;
DROP INDEX imports_file;
DROP INDEX imports_files_kept;
ALTER TABLE imports DROP COLUMN files_expired_at;
ALTER TABLE files DROP COLUMN updated_at;
ALTER TABLE files DROP COLUMN completed_at;
