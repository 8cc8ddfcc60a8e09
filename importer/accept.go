package importer

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/riverqueue/river"

	"github.com/jmoiron/sqlx"

	"rosterd/jobs"
	"rosterd/store"
)

// AcceptParams is a file arriving through a door.
type AcceptParams struct {
	OrgID    int64
	Door     string
	Mode     Mode
	DryRun   bool
	FileName string
	File     io.Reader // streamed into storage, never whole in memory
	MaxBytes int64     // past it: *store.TooLargeError, nothing recorded
	// Queue, when set, gets the import's job in the same transaction, to be
	// worked after Delay: a daemon's worker processes it. The command line
	// processing a file itself still queues it, with a delay, so that a
	// daemon finishes it should the command die half-way.
	Queue *jobs.Client
	Delay time.Duration
}

// Accept stores the file and records a queued import for it in one
// transaction: either both exist or neither does, so an accepted file is
// never lost and no import points at a missing file.
func Accept(ctx context.Context, db *store.DB, p AcceptParams) (*store.Import, error) {
	var im *store.Import
	err := db.InTx(ctx, func(tx *sqlx.Tx) error {
		f, err := store.FileCreate(ctx, tx, p.OrgID, p.FileName, p.File, p.MaxBytes)
		if err != nil {
			return err
		}
		im = &store.Import{OrgID: p.OrgID, Door: p.Door, Mode: string(p.Mode), DryRun: p.DryRun,
			FileName: p.FileName, FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes}
		if err := store.ImportCreate(ctx, tx, im); err != nil {
			return err
		}
		return QueueTx(ctx, tx, p.Queue, im.ID, p.Delay)
	})
	if err != nil {
		return nil, err
	}
	return im, nil
}

// QueueTx inserts the job of import id in tx (nothing without a queue).
func QueueTx(ctx context.Context, tx *sqlx.Tx, q *jobs.Client, id string, delay time.Duration) error {
	if q == nil {
		return nil
	}
	opts := &river.InsertOpts{MaxAttempts: 25}
	if delay > 0 {
		opts.ScheduledAt = time.Now().Add(delay)
	}
	if _, err := q.InsertTx(ctx, tx.Tx, jobs.ImportArgs{ImportID: id}, opts); err != nil {
		return fmt.Errorf("queue import: %w", err)
	}
	return nil
}
