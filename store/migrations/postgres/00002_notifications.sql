-- +goose Up
CREATE TABLE notifications (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    import_id TEXT REFERENCES imports(id),
    kind TEXT NOT NULL,
    recipients TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    sent_at TIMESTAMPTZ
);
CREATE INDEX notifications_import ON notifications (import_id);

-- +goose Down
DROP TABLE notifications;
