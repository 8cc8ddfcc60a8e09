-- +goose Up
-- A daemon's beats are counted: another daemon judges it alive by seeing the
-- count move, on its own monotonic clock, and not only by comparing
-- heartbeat_at with the database's clock, which can be set back while a
-- daemon lies dead (jobs.Liveness).
ALTER TABLE daemons ADD COLUMN beats BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE daemons DROP COLUMN beats;
