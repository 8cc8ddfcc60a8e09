-- +goose Up
-- What an organisation's SFTP /in/ holds (SPEC §5.2). Every SFTP account
-- (sftp_accounts, 00001) of an organisation sees the organisation's one
-- tree: /in/ is this table; /processed/ and /errors/ are the organisation's
-- imports of door sftp.
--
-- Complete files only: an upload becomes a row once its client closed it
-- after a complete transfer and the file is stored. A rename changes name;
-- an overwrite points the row at the new file. When the scheduled sync takes
-- a file, the row is deleted in the same transaction that records its import
-- (which keeps file_id and the name), and the file shows as
-- /processed/<import id>_<name>. Names starting with '.' or ending in .part,
-- .filepart or .tmp are listed in /in/ but never synced.
CREATE TABLE sftp_inbox (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    file_id INTEGER NOT NULL REFERENCES files(id),
    size_bytes INTEGER NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    UNIQUE (org_id, name)
);
CREATE INDEX sftp_inbox_file ON sftp_inbox (file_id);

-- +goose Down
DROP TABLE sftp_inbox;
