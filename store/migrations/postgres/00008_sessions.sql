-- +goose Up
-- Back-office sign-ins, kept in the database so that several daemons behind
-- one address share them. Only the SHA-256 of the cookie's secret is stored:
-- a copy of the database does not let anyone in.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    admin_id BIGINT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Failed sign-ins, one row per key they count against ('ip:<addr>' or
-- 'account:<email>'); sign-in is refused after too many in a window. The id
-- lets an attempt that was refused, or succeeded, take back the row it
-- wrote before checking the password.
CREATE TABLE login_failures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- +goose Down
DROP TABLE login_failures;
DROP TABLE sessions;
