-- +goose Up
-- run counts the runs of an import: ImportStart adds one, so a re-run after
-- an approval (or a crashed run picked up again) is told apart from the run
-- before it. A run's live progress is kept apart from the import (see
-- store/progress.go): on SQLite in a file of its own beside the database,
-- whose writes never wait for an import's write lock on this one.
ALTER TABLE imports ADD COLUMN run INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE imports DROP COLUMN run;
