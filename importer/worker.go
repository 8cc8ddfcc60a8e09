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
	// MaxDuration bounds one run of an import (job_rescue_after). River's
	// rescuer only runs again jobs whose time is up, so it is also how long
	// an import cut off by a daemon that never came back waits.
	MaxDuration time.Duration
	// Pause is RunParams.Pause for every import this worker runs: a test
	// hook (rosterd's crash tests stop an import at a step to kill the
	// daemon there); nil in production.
	Pause func(context.Context, Step)
}

// Timeout is MaxDuration: long enough for the largest file, finite so that
// the work of a vanished daemon is rescued.
func (w *Worker) Timeout(*river.Job[jobs.ImportArgs]) time.Duration { return w.MaxDuration }

// Work processes one import, in the order the organisation's files were
// accepted: while an older import of the organisation is still waiting or
// running, this one waits its turn.
func (w *Worker) Work(ctx context.Context, job *river.Job[jobs.ImportArgs]) error {
	im, err := store.ImportLookup(ctx, w.DB, job.Args.ImportID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if im.Finished() {
		return nil
	}
	if older, err := OlderPending(ctx, w.DB, im); err != nil {
		return err
	} else if older {
		return river.JobSnooze(time.Second)
	}
	client := river.ClientFromContext[*sql.Tx](ctx)
	_, err = Run(ctx, w.DB, RunParams{Import: im, Limits: w.Limits, Logger: w.Logger, Pause: w.Pause,
		Finalize: func(ctx context.Context, tx *sqlx.Tx, im *store.Import) error {
			_, err := notify.EnqueueTx(ctx, tx, client, im, 0)
			return err
		}})
	switch {
	case errors.Is(err, ErrImportBusy):
		return river.JobSnooze(2 * time.Second)
	case errors.Is(err, ErrImportFinished):
		return nil
	case err != nil && job.Attempt >= job.MaxAttempts:
		// The last attempt: end the import as failed rather than leave it
		// (and every later import of the organisation) waiting forever.
		return w.giveUp(ctx, client, im, err)
	case err != nil:
		return err
	}
	return nil
}

// giveUp records an import that could not be processed at all as failed,
// with its e-mail.
func (w *Worker) giveUp(ctx context.Context, client *river.Client[*sql.Tx], im *store.Import, cause error) error {
	now := time.Now().UTC()
	im.Status, im.FinishedAt = store.ImportFailed, &now
	im.Error = fmt.Sprintf("rosterd could not process this import after several attempts (%v); nothing was applied. Send the file again, and tell support the import id if it happens again", cause)
	im.Counts = store.Counts{}
	return w.DB.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := store.ImportFinishFrom(ctx, tx, im, store.ImportQueued, store.ImportProcessing); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		_, err := notify.EnqueueTx(ctx, tx, client, im, 0)
		return err
	})
}

// OlderPending reports whether an import of the same organisation accepted
// before im is still waiting or running: imports apply in acceptance order.
func OlderPending(ctx context.Context, db *store.DB, im *store.Import) (bool, error) {
	var older int
	if err := db.GetContext(ctx, &older, db.Rebind(`SELECT COUNT(*) FROM imports
		WHERE org_id = ? AND id < ? AND status IN ('queued', 'processing')`), im.OrgID, im.ID); err != nil {
		return false, fmt.Errorf("check import order: %w", err)
	}
	return older > 0, nil
}
