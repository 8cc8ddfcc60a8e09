package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"rosterd/jobs"
	"rosterd/notify"
	"rosterd/store"
)

// Worker is the River worker that processes queued imports.
type Worker struct {
	river.WorkerDefaults[jobs.ImportArgs]
	DB     *store.DB
	Limits Limits
	// PGPKeyGrace is pgp_key_grace; 0: DefaultPGPKeyGrace.
	PGPKeyGrace time.Duration
	// TmpDir is tmp_dir (RunParams.TmpDir); "": the system's.
	TmpDir string
	Logger *slog.Logger
	// MaxDuration bounds one run of an import (job_rescue_after). The
	// imports of a daemon that died do not wait for it: the daemons'
	// heartbeats hand them over within a minute (jobs.Liveness).
	MaxDuration time.Duration
	// Pause is RunParams.Pause for every import this worker runs: a test
	// hook (rosterd's crash tests stop an import at a step to kill the
	// daemon there); nil in production.
	Pause func(context.Context, Step)
	// Observer is told each run's phases and each outcome this worker
	// records, given-up imports included; nil: nobody.
	Observer Observer
}

// Observer hears what imports did: the daemon's metrics implement it. It
// is an interface here so that importer knows nothing of how (or whether)
// they are exported.
type Observer interface {
	// ImportEnded is called once for each outcome recorded (succeeded,
	// completed_with_errors, held, failed), after it is committed.
	ImportEnded(im *store.Import)
	// ImportPhase is called as each phase of a run ends (PhaseRead …).
	ImportPhase(phase string, took time.Duration)
}

// Timeout is MaxDuration: long enough for the largest file, finite so that
// the work of a vanished daemon is rescued.
func (w *Worker) Timeout(*river.Job[jobs.ImportArgs]) time.Duration { return w.MaxDuration }

// Work processes one import, in the order the organisation's files were
// accepted: while an older import of the organisation is still waiting or
// running, this one waits its turn.
//
// A run that panics is treated as one that failed: retried, and on the last
// attempt its import ends failed with its e-mail, like any other last attempt.
func (w *Worker) Work(ctx context.Context, job *river.Job[jobs.ImportArgs]) (err error) {
	var im *store.Import
	defer func() {
		if v := recover(); v != nil {
			var org int64
			if im != nil {
				org = im.OrgID
			}
			w.logger().Error("import run panicked", "import_id", job.Args.ImportID, "org_id", org, "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("import %s panicked: %v", job.Args.ImportID, v)
			if im != nil && job.Attempt >= job.MaxAttempts {
				if gerr := w.giveUp(ctx, river.ClientFromContext[*sql.Tx](ctx), im, err); gerr != nil {
					w.logger().Error("import not recorded as failed", "import_id", im.ID, "org_id", im.OrgID, "error", gerr)
					err = gerr
				} else {
					err = nil
				}
			}
		}
	}()
	im, err = store.ImportLookup(ctx, w.DB, job.Args.ImportID)
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
	_, err = Run(ctx, w.DB, RunParams{Import: im, Limits: w.Limits, PGPKeyGrace: w.PGPKeyGrace, TmpDir: w.TmpDir, Logger: w.Logger, Pause: w.Pause, Observer: w.Observer,
		Finalize: func(ctx context.Context, tx *sqlx.Tx, im *store.Import) error {
			_, err := notify.EnqueueTx(ctx, tx, client, im, 0)
			return err
		}})
	switch {
	case errors.Is(err, ErrImportBusy):
		return river.JobSnooze(2 * time.Second)
	case errors.Is(err, ErrImportFinished), errors.Is(err, ErrImportCancelled):
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

func (w *Worker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

// giveUp records an import that could not be processed at all as failed,
// with its e-mail.
func (w *Worker) giveUp(ctx context.Context, client *river.Client[*sql.Tx], im *store.Import, cause error) error {
	// The job's own context may be what ran out (its timeout): recording
	// the outcome must not depend on it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), giveUpTimeout)
	defer cancel()
	w.logger().Error("import given up after its last attempt", "import_id", im.ID, "org_id", im.OrgID, "error", cause)
	ended, err := giveUp(ctx, w.DB, client, im.ID, fmt.Sprintf("rosterd could not process this import after several attempts (%v); nothing was applied. "+
		"Send the file again, and tell support the import id if it happens again", cause))
	if ended != nil && w.Observer != nil {
		w.Observer.ImportEnded(ended)
	}
	return err
}

// giveUpTimeout bounds recording a given-up import's outcome.
const giveUpTimeout = 30 * time.Second

// GiveUp ends an import that will not be processed (its job's attempts are
// spent, or its job is gone) as failed with reason, and queues its e-mail in
// the same transaction. It is a compare-and-set from queued or processing, so
// of every path that gives an import up, exactly one records it and sends
// the e-mail; the others find it ended and do nothing.
func GiveUp(ctx context.Context, db *store.DB, client *jobs.Client, importID, reason string) error {
	_, err := giveUp(ctx, db, client, importID, reason)
	return err
}

// giveUp is GiveUp that returns the import as it recorded it, or nil if
// it found it ended already.
func giveUp(ctx context.Context, db *store.DB, client *jobs.Client, importID, reason string) (*store.Import, error) {
	var ended *store.Import
	err := db.InTx(ctx, func(tx *sqlx.Tx) error {
		ended = nil
		im, err := store.ImportLookup(ctx, tx, importID)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		im.Status, im.FinishedAt, im.Error = store.ImportFailed, &now, reason
		im.Counts, im.ErrorsFileID, im.ErrorsXLSXFileID = store.Counts{}, nil, nil
		if err := store.ImportFinishFrom(ctx, tx, im, store.ImportQueued, store.ImportProcessing); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		if _, err = notify.EnqueueTx(ctx, tx, client, im, 0); err != nil {
			return err
		}
		ended = im
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ended, nil
}

// OlderPending reports whether an import of the same organisation accepted
// before im is still waiting or running: imports apply in acceptance order,
// the database's (store.Import.Seq), whatever the accepting daemons' clocks.
func OlderPending(ctx context.Context, db *store.DB, im *store.Import) (bool, error) {
	var older int
	if err := db.GetContext(ctx, &older, db.Rebind(`SELECT COUNT(*) FROM imports WHERE org_id = ?
		AND seq < (SELECT b.seq FROM imports b WHERE b.id = ?) AND status IN ('queued', 'processing')`), im.OrgID, im.ID); err != nil {
		return false, fmt.Errorf("check import order: %w", err)
	}
	return older > 0, nil
}

// FailOrphans gives up the imports that no job will ever run: queued or
// processing, yet every import job naming them has ended (River discarded it
// after its attempts, or it was cancelled or deleted). Without this such an
// import would block its organisation for good (OlderPending). Each is ended
// failed with its e-mail, exactly once (GiveUp), told to obs as every ended
// import is (so rosterd_imports_total counts it) and logged at INFO with its
// id and organisation; it returns how many. obs and log may be nil.
func FailOrphans(ctx context.Context, db *store.DB, client *jobs.Client, obs Observer, log *slog.Logger) (int, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Imports first, then jobs: an import's job ends only after the import
	// has (or together with a new job, on approval), so an import read as
	// unfinished here has, if it has any, a live job in the list read next.
	var waiting []string
	if err := db.SelectContext(ctx, &waiting, `SELECT id FROM imports WHERE status IN ('queued', 'processing')`); err != nil {
		return 0, fmt.Errorf("list unfinished imports: %w", err)
	}
	if len(waiting) == 0 {
		return 0, nil
	}
	live := map[string]bool{}
	params := river.NewJobListParams().Kinds(jobs.ImportArgs{}.Kind()).States(rivertype.JobStateAvailable, rivertype.JobStatePending,
		rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled).First(10000)
	for {
		res, err := client.JobList(ctx, params)
		if err != nil {
			return 0, fmt.Errorf("list import jobs: %w", err)
		}
		for _, j := range res.Jobs {
			var args jobs.ImportArgs
			if err := json.Unmarshal(j.EncodedArgs, &args); err == nil {
				live[args.ImportID] = true
			}
		}
		if len(res.Jobs) < 10000 {
			break
		}
		params = params.After(res.LastCursor)
	}
	n := 0
	for _, id := range waiting {
		if live[id] {
			continue
		}
		ended, err := giveUp(ctx, db, client, id, "rosterd stopped trying to process this import (its job ended without finishing it); "+
			"nothing was applied. Send the file again, and tell support the import id if it happens again")
		if err != nil {
			return n, err
		}
		if ended == nil { // another daemon ended it meanwhile, and counted it
			continue
		}
		log.Info("import ended as failed: its job ended without finishing it", "import_id", ended.ID, "org_id", ended.OrgID,
			"door", ended.Door, "mode", ended.Mode, "status", ended.Status)
		if obs != nil {
			obs.ImportEnded(ended)
		}
		n++
	}
	return n, nil
}
