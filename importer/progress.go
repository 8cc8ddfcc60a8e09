package importer

import (
	"context"
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
type progressWriter struct {
	ctx    context.Context
	db     *store.DB
	id     string
	also   func(rows, bytes int64)
	latest chan [2]int64
	done   sync.WaitGroup
	cancel context.CancelFunc
}

func newProgressWriter(ctx context.Context, db *store.DB, id string, also func(rows, bytes int64)) *progressWriter {
	ctx, cancel := context.WithCancel(ctx)
	w := &progressWriter{ctx: ctx, db: db, id: id, also: also, latest: make(chan [2]int64, 1), cancel: cancel}
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
			select {
			case v := <-w.latest:
				_ = store.ImportSetProgress(w.ctx, w.db, w.id, v[0], v[1])
			default:
			}
		}
	}
}

// stop ends the writer; the outcome, recorded next, carries the final figures.
func (w *progressWriter) stop() {
	w.cancel()
	w.done.Wait()
}
