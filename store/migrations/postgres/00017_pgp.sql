-- +goose Up
-- PGP-encrypted rosters (issue 21 §2, SPEC §6): the organisation's settings
-- and its key pairs. A rotated key keeps its row, retired_at set, and still
-- decrypts for pgp_key_grace; the private key is kept armoured, as rosterd
-- made or imported it (the database is the daemon's secret store already:
-- password hashes, SFTP keys).
ALTER TABLE organisations ADD COLUMN require_encryption BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organisations ADD COLUMN sender_pgp_key TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN require_signature BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organisations ADD COLUMN attach_errors BOOLEAN NOT NULL DEFAULT TRUE;
CREATE TABLE pgp_keys (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    fingerprint TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    retired_at TIMESTAMPTZ
);
CREATE INDEX pgp_keys_org ON pgp_keys (org_id, id);

-- +goose Down
DROP TABLE pgp_keys;
ALTER TABLE organisations DROP COLUMN attach_errors;
ALTER TABLE organisations DROP COLUMN require_signature;
ALTER TABLE organisations DROP COLUMN sender_pgp_key;
ALTER TABLE organisations DROP COLUMN require_encryption;
