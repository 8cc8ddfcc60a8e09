-- +goose Up
-- PGP-encrypted rosters (issue 21 §2, SPEC §6): the organisation's settings
-- and its key pairs. A rotated key keeps its row, retired_at set, and still
-- decrypts for pgp_key_grace; the private key is kept armoured, as rosterd
-- made or imported it (the database is the daemon's secret store already:
-- password hashes, SFTP keys).
ALTER TABLE organisations ADD COLUMN require_encryption INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN sender_pgp_key TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN require_signature INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN attach_errors INTEGER NOT NULL DEFAULT 1;
CREATE TABLE pgp_keys (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    fingerprint TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);
CREATE INDEX pgp_keys_org ON pgp_keys (org_id, id);

-- +goose Down
DROP TABLE pgp_keys;
ALTER TABLE organisations DROP COLUMN attach_errors;
ALTER TABLE organisations DROP COLUMN require_signature;
ALTER TABLE organisations DROP COLUMN sender_pgp_key;
ALTER TABLE organisations DROP COLUMN require_encryption;
