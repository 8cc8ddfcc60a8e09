-- +goose Up
CREATE TABLE organisations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    notification_emails TEXT NOT NULL DEFAULT '',
    sync_schedule TEXT NOT NULL DEFAULT '0 2 * * *',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    default_phone_region TEXT NOT NULL DEFAULT '',
    archive_threshold_percent INTEGER NOT NULL DEFAULT 10,
    archive_threshold_min INTEGER NOT NULL DEFAULT 5,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE admins (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX api_tokens_org_name ON api_tokens (org_id, name) WHERE revoked_at IS NULL;

CREATE TABLE sftp_accounts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL DEFAULT '',
    authorized_keys TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE files (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    size_bytes BIGINT NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE file_chunks (
    file_id BIGINT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (file_id, seq)
);

CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    door TEXT NOT NULL,
    mode TEXT NOT NULL,
    dry_run BOOLEAN NOT NULL DEFAULT FALSE,
    file_name TEXT NOT NULL,
    file_id BIGINT NOT NULL REFERENCES files(id),
    file_sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    warnings TEXT NOT NULL DEFAULT '[]',
    rows_total BIGINT NOT NULL DEFAULT 0,
    created BIGINT NOT NULL DEFAULT 0,
    updated BIGINT NOT NULL DEFAULT 0,
    unchanged BIGINT NOT NULL DEFAULT 0,
    archived BIGINT NOT NULL DEFAULT 0,
    restored BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    rows_read BIGINT NOT NULL DEFAULT 0,
    bytes_read BIGINT NOT NULL DEFAULT 0,
    archive_approved BOOLEAN NOT NULL DEFAULT FALSE,
    errors_file_id BIGINT REFERENCES files(id),
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);
CREATE INDEX imports_org_created ON imports (org_id, created_at DESC, id DESC);

CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    external_id TEXT NOT NULL,
    id_key TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    preferred_language TEXT NOT NULL DEFAULT '',
    authentication_type TEXT NOT NULL DEFAULT '',
    authentication_id TEXT NOT NULL DEFAULT '',
    business_email TEXT NOT NULL DEFAULT '',
    private_email TEXT NOT NULL DEFAULT '',
    business_mobile_phone TEXT NOT NULL DEFAULT '',
    private_mobile_phone TEXT NOT NULL DEFAULT '',
    manager TEXT NOT NULL DEFAULT '',
    default_site TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    division TEXT NOT NULL DEFAULT '',
    subdivision TEXT NOT NULL DEFAULT '',
    job_title TEXT NOT NULL DEFAULT '',
    contract_type TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    zone TEXT NOT NULL DEFAULT '',
    domain TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',
    archived_at TIMESTAMPTZ,
    row_hash TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, external_id)
);
CREATE INDEX users_org_id_key ON users (org_id, id_key);
CREATE INDEX users_org_business_email ON users (org_id, business_email);
CREATE INDEX users_org_manager ON users (org_id, manager);

-- +goose Down
DROP TABLE users;
DROP TABLE imports;
DROP TABLE file_chunks;
DROP TABLE files;
DROP TABLE sftp_accounts;
DROP TABLE api_tokens;
DROP TABLE admins;
DROP TABLE organisations;
