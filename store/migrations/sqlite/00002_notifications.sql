-- +goose Up
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    import_id TEXT REFERENCES imports(id),
    kind TEXT NOT NULL,
    recipients TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    sent_at TIMESTAMP
);
CREATE INDEX notifications_import ON notifications (import_id);

-- +goose Down
DROP TABLE notifications;
