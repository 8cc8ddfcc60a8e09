-- +goose Up
-- run counts the runs of an import: ImportStart adds one, so a re-run after
-- an approval (or a crashed run picked up again) is told apart from the run
-- before it.
ALTER TABLE imports ADD COLUMN run INTEGER NOT NULL DEFAULT 0;

-- The live progress of an import's latest run, written outside the import's
-- transaction (autocommit) at least once a second while it runs, so every
-- daemon and command line sees it (store/progress.go). On SQLite the same
-- table lives in a file of its own beside the database.
CREATE TABLE import_progress (
    import_id   TEXT PRIMARY KEY,
    run         INTEGER NOT NULL,
    phase       TEXT NOT NULL,
    phase_order INTEGER NOT NULL,
    rows_read   BIGINT NOT NULL DEFAULT 0,
    bytes_read  BIGINT NOT NULL DEFAULT 0,
    done        BIGINT NOT NULL DEFAULT 0,
    total       BIGINT NOT NULL DEFAULT 0,
    phase_times TEXT NOT NULL DEFAULT '{}',
    updated_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE import_progress;
ALTER TABLE imports DROP COLUMN run;
