package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"rosterd/jobs"
	"rosterd/notify"
	"rosterd/store"
)

// Worker is the River worker that processes queued imports.
type Worker struct {
	river.WorkerDefaults[jobs.ImportArgs]
	DB     *store.DB
	Limits Limits
	Logger *slog.Logger
	// OnFinish, when set, is told of every import this worker ends (tests).
	OnFinish func(*store.Import)
}

// Timeout is none: a large import takes as long as it takes, and an import
// cut off by a crash is picked up again by River's rescuer.
func (w *Worker) Timeout(*river.Job[jobs.ImportArgs]) time.Duration { return -1 }

// Work processes one import, in the order the organisation's files were
// accepted: while an older import of the organisation is still waiting or
// running, this one waits its turn.
func (w *Worker) Work(ctx context.Context, job *river.Job[jobs.ImportArgs]) error {
	im, err := store.ImportGet(ctx, w.DB, 0, job.Args.ImportID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if im.Finished() {
		return nil
	}
	var older int
	if err := w.DB.GetContext(ctx, &older, w.DB.Rebind(`SELECT COUNT(*) FROM imports
		WHERE org_id = ? AND id < ? AND status IN ('queued', 'processing')`), im.OrgID, im.ID); err != nil {
		return fmt.Errorf("check import order: %w", err)
	}
	if older > 0 {
		return river.JobSnooze(time.Second)
	}
	client := river.ClientFromContext[*sql.Tx](ctx)
	out, err := Run(ctx, w.DB, RunParams{Import: im, Limits: w.Limits, Logger: w.Logger,
		Finalize: func(ctx context.Context, tx *sqlx.Tx, im *store.Import) error {
			_, err := notify.EnqueueTx(ctx, tx, client, im)
			return err
		}})
	switch {
	case errors.Is(err, ErrImportBusy):
		return river.JobSnooze(2 * time.Second)
	case errors.Is(err, ErrImportFinished):
		return nil
	case err != nil:
		return err
	}
	if w.OnFinish != nil {
		w.OnFinish(out.Import)
	}
	return nil
}
