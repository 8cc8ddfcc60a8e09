-- +goose Up
-- One row per running 'rosterd serve', under a fresh random id at each start
-- (its River client id). heartbeat_at moves every few seconds while it
-- lives; a live daemon that finds another's heartbeat stopped makes that
-- daemon's running jobs available again and deletes its row.
CREATE TABLE daemons (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    heartbeat_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE daemons;
