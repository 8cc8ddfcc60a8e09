package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"rosterd/store"
)

// FilesSweepArgs asks a worker to enforce file_retention and
// journal_retention once.
type FilesSweepArgs struct{}

// Kind names the job in River's table.
func (FilesSweepArgs) Kind() string { return "files_sweep" }

// FilesSweepWorker runs store.FilesSweep, store.ChangesSweep and
// store.AuditSweep: the daily retention of an import's files, of the
// journal and of the audit log. Unlike the other
// workers it lives here: the code it runs is in store, which knows nothing
// of River.
type FilesSweepWorker struct {
	river.WorkerDefaults[FilesSweepArgs]
	DB        *store.DB
	Retention time.Duration // file_retention
	// JournalRetention is journal_retention; 0 keeps the journal for ever
	// (a caller that predates it).
	JournalRetention time.Duration
	Logger           *slog.Logger
}

// Timeout gives a first sweep over a year of files time to finish; it is
// safe to cut off and run again (every deletion is a compare-and-set).
func (w *FilesSweepWorker) Timeout(*river.Job[FilesSweepArgs]) time.Duration { return 30 * time.Minute }

// Work sweeps with the current time: the files, then the journal, each
// whatever happened to the other (one failing is no reason to keep the
// other past its retention); River retries the job if either failed.
func (w *FilesSweepWorker) Work(ctx context.Context, _ *river.Job[FilesSweepArgs]) error {
	now := time.Now()
	res, filesErr := store.FilesSweep(ctx, w.DB, store.FilesSweepParams{Now: now, Retention: w.Retention})
	if w.Logger != nil && res != (store.FilesSweepResult{}) {
		w.Logger.Info("stored files deleted", "file_retention", w.Retention, "imports_expired", res.ImportsExpired,
			"uploads_emptied", res.UploadsEmptied, "files_deleted", res.FilesDeleted)
	}
	var journalErr error
	if w.JournalRetention > 0 {
		var n int64
		var audited int64
		n, journalErr = store.ChangesSweep(ctx, w.DB, now.Add(-w.JournalRetention))
		if journalErr == nil {
			audited, journalErr = store.AuditSweep(ctx, w.DB, now.Add(-w.JournalRetention))
		}
		if w.Logger != nil && n+audited > 0 {
			w.Logger.Info("journal entries deleted", "journal_retention", w.JournalRetention, "entries_deleted", n,
				"audit_entries_deleted", audited)
		}
	}
	return errors.Join(filesErr, journalErr)
}

// FilesSweepDaily is the sweep's schedule: once a day, and once when a
// daemon becomes River's leader (a daemon restarted more often than daily
// still sweeps). Only the leader, one among the daemons sharing the
// database, inserts periodic jobs, so the sweep never runs twice at once
// from its schedule.
func FilesSweepDaily() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return FilesSweepArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
