package importer

import (
	"context"
	"errors"
	"sync"
	"time"

	"rosterd/store"
)

// progressEvery is how often a running import's progress is written.
const progressEvery = 500 * time.Millisecond

// progressWriter records rows_read and bytes_read on the import, on a
// connection of its own, so others see progress while the import's own
// transaction is still open. It keeps only the latest figures and never
// slows the import down: a write still under way (SQLite waits for the
// import's write lock) just means the next figures replace these.
//
// It is also how a run hears that its import was cancelled under it (SPEC
// §4.1): the write is a compare-and-set on processing, and between figures
// (checks, plan, apply) it reads the status instead. When the import is no
// longer processing it calls gone with ErrImportCancelled or
// ErrImportFinished, and the run, whose context that cancels, rolls back.
type progressWriter struct {
	ctx    context.Context
	db     *store.DB
	id     string
	also   func(rows, bytes int64)
	gone   func(cause error)
	latest chan [2]int64
	done   sync.WaitGroup
	cancel context.CancelFunc
}

func newProgressWriter(ctx context.Context, db *store.DB, id string, also func(rows, bytes int64), gone func(cause error)) *progressWriter {
	ctx, cancel := context.WithCancel(ctx)
	w := &progressWriter{ctx: ctx, db: db, id: id, also: also, gone: gone, latest: make(chan [2]int64, 1), cancel: cancel}
	w.done.Go(w.loop)
	return w
}

func (w *progressWriter) report(rows, bytes int64) {
	if w.also != nil {
		w.also(rows, bytes)
	}
	select {
	case <-w.latest: // drop the stale figures
	default:
	}
	select {
	case w.latest <- [2]int64{rows, bytes}:
	default:
	}
}

func (w *progressWriter) loop() {
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-tick.C:
			var err error
			select {
			case v := <-w.latest:
				err = store.ImportSetProgress(w.ctx, w.db, w.id, v[0], v[1])
			default:
				var status string
				if status, err = store.ImportStatus(w.ctx, w.db, w.id); err == nil && status != store.ImportProcessing {
					err = store.ErrNotFound
				}
			}
			if errors.Is(err, store.ErrNotFound) && w.ctx.Err() == nil {
				w.gone(w.whyGone())
				return
			}
		}
	}
}

// whyGone tells a cancelled import from one another run ended.
func (w *progressWriter) whyGone() error {
	if status, err := store.ImportStatus(w.ctx, w.db, w.id); err == nil && status == store.ImportCancelled {
		return ErrImportCancelled
	}
	return ErrImportFinished
}

// stop ends the writer; the outcome, recorded next, carries the final figures.
func (w *progressWriter) stop() {
	w.cancel()
	w.done.Wait()
}
