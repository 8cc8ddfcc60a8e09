package importer

import (
	"context"
	"errors"
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
	// Actor made the import (SPEC §4.4): an admin's e-mail, a token's
	// name, an SFTP login, "cli" or "schedule".
	Actor string
	// Queue, when set, gets the import's job in the same transaction, to be
	// worked after Delay: a daemon's worker processes it. The command line
	// processing a file itself still queues it, with a delay, so that a
	// daemon finishes it should the command die half-way.
	Queue *jobs.Client
	Delay time.Duration
	// Now stamps the import record (created_at and its id); zero: the
	// time it is recorded. Its order among the organisation's imports is
	// the database's all the same (store.Import.Seq).
	Now time.Time
}

// Accept stores the file and records a queued import for it. The file is
// stored as it arrives, each full chunk in a short transaction of its own,
// so a slow client holds no write lock (SQLite) and no pooled connection
// (PostgreSQL) for the length of its transfer; then one short transaction
// stores the last chunk (a file of one chunk whole: its only write),
// completes the file and records the import and its job: an accepted file
// always has its import and its job, and no import points at a missing or
// partial file. A file refused (too large), unreadable or cut off
// (cancelled context) is removed with its chunks; one left by a process that
// died half-way is removed by store.FilesSweep.
func Accept(ctx context.Context, db *store.DB, p AcceptParams) (*store.Import, error) {
	w, err := store.FileUploadWriter(ctx, db, p.OrgID, p.FileName, p.MaxBytes)
	if err != nil {
		return nil, err
	}
	im, err := accept(ctx, db, w, p)
	if err != nil {
		if rerr := w.Remove(ctx); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	return im, nil
}

func accept(ctx context.Context, db *store.DB, w *store.FileWriter, p AcceptParams) (*store.Import, error) {
	if err := storeFile(w, p.File); err != nil {
		return nil, err
	}
	return record(ctx, db, w, p, nil)
}

// storeFile streams file into w.
func storeFile(w *store.FileWriter, file io.Reader) error {
	if _, err := io.Copy(w, file); err != nil {
		var tl *store.TooLargeError
		if errors.As(err, &tl) {
			return tl
		}
		return fmt.Errorf("store file: %w", err)
	}
	return nil
}

// record completes the stored file and records its import and job in one
// transaction. gone, when set, is asked last, just before the commit: true
// rolls it all back with ErrClientGone.
func record(ctx context.Context, db *store.DB, w *store.FileWriter, p AcceptParams, gone func() bool) (*store.Import, error) {
	var im *store.Import
	err := db.InTx(ctx, func(tx *sqlx.Tx) error {
		f, err := w.CloseTx(ctx, tx)
		if err != nil {
			return err
		}
		im = &store.Import{OrgID: p.OrgID, Door: p.Door, Mode: string(p.Mode), DryRun: p.DryRun,
			FileName: p.FileName, FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes, Actor: p.Actor, CreatedAt: p.Now}
		if err := store.ImportCreate(ctx, tx, im); err != nil {
			return err
		}
		if err := QueueTx(ctx, tx, p.Queue, im.ID, p.Delay); err != nil {
			return err
		}
		if gone != nil && gone() {
			return ErrClientGone
		}
		return nil
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
