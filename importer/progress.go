package importer

import (
	"context"
	"errors"
	"sync"
	"time"

	"rosterd/store"
)

// progressEvery is how often a running import's progress is written (and
// its status read): five times a second, so a page that asks every 250 ms
// sees a check of half a second move the figures. A write is one row of
// its own (on SQLite in the progress file), a fraction of a millisecond.
const progressEvery = 200 * time.Millisecond

// progressWriter records a run's phase and figures (store.ImportProgress)
// outside the import's own transaction, so others see them while it is
// open: on PostgreSQL in autocommit, on SQLite in the progress file, whose
// writes never wait for this process's write turn (store.DB.LockWrites) or
// the import's lock on the main file. It keeps the latest figures in memory
// and writes them every progressEvery, so it never slows the import down.
// Phases only move forward (store.ImportProgressSet is a compare-and-set on
// the run and the phase's order), and a phase change is written at once.
//
// It is also how a run hears that its import was cancelled under it (SPEC
// §4.1): on every tick it reads the import's status, a read that waits for
// no writer. When the import is no longer processing (or another run took
// it over) it calls gone with ErrImportCancelled or ErrImportFinished, and
// the run, whose context that cancels, rolls back.
type progressWriter struct {
	ctx    context.Context
	db     *store.DB
	run    int64
	also   func(rows, bytes int64)
	watch  func(store.ImportProgress)
	gone   func(cause error)
	kick   chan struct{}
	begun  bool // the run's first write is done (see write)
	done   sync.WaitGroup
	cancel context.CancelFunc

	mu    sync.Mutex
	p     store.ImportProgress
	times map[string]time.Time
}

func newProgressWriter(ctx context.Context, db *store.DB, id string, run int64, also func(rows, bytes int64),
	watch func(store.ImportProgress), gone func(cause error)) *progressWriter {
	ctx, cancel := context.WithCancel(ctx)
	w := &progressWriter{ctx: ctx, db: db, run: run, also: also, watch: watch, gone: gone, kick: make(chan struct{}, 1), cancel: cancel,
		p: store.ImportProgress{ImportID: id, Run: run}, times: map[string]time.Time{}}
	w.setPhase(store.PhaseReading, 0)
	w.done.Go(w.loop)
	return w
}

// report records how far reading has got.
func (w *progressWriter) report(rows, bytes int64) {
	if w.also != nil {
		w.also(rows, bytes)
	}
	w.mu.Lock()
	w.p.RowsRead, w.p.BytesRead = rows, bytes
	if w.p.Phase == store.PhaseReading {
		w.p.Done = bytes
	}
	w.mu.Unlock()
}

// setPhase moves the run to a later phase, whose figures go from 0 to
// total; a phase at or before the current one is ignored.
func (w *progressWriter) setPhase(phase string, total int64) {
	w.mu.Lock()
	if store.PhaseOrder(phase) <= store.PhaseOrder(w.p.Phase) {
		w.mu.Unlock()
		return
	}
	w.p.Phase, w.p.Done, w.p.Total = phase, 0, total
	w.times[phase] = time.Now().UTC()
	w.p.SetPhaseTimes(w.times)
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// advance sets how much of the current phase is done (never less than before).
func (w *progressWriter) advance(done int64) {
	w.mu.Lock()
	if done > w.p.Done {
		w.p.Done = done
		if w.p.Total > 0 {
			w.p.Done = min(done, w.p.Total)
		}
	}
	w.mu.Unlock()
}

// current is a copy of the latest figures.
func (w *progressWriter) current() store.ImportProgress {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.p
}

func (w *progressWriter) loop() {
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		w.write(w.ctx)
		status, err := store.ImportStatus(w.ctx, w.db, w.p.ImportID)
		if err == nil && status != store.ImportProcessing || errors.Is(err, store.ErrNotFound) {
			if w.ctx.Err() == nil {
				w.gone(w.whyGone(status))
			}
			return
		}
		select {
		case <-w.ctx.Done():
			return
		case <-tick.C:
		case <-w.kick:
		}
	}
}

// write records the latest figures: on every tick, changed or not, so that
// updated_at is the run's heartbeat.
func (w *progressWriter) write(ctx context.Context) {
	w.mu.Lock()
	p := w.p
	w.mu.Unlock()
	set := store.ImportProgressSet
	if !w.begun {
		set = store.ImportProgressBegin
	}
	if err := set(ctx, w.db, &p); err != nil && ctx.Err() == nil {
		// Progress is for people watching; the run goes on without it.
		return
	}
	w.begun = true
	if w.watch != nil {
		w.watch(p)
	}
}

// whyGone tells a cancelled import from one another run ended.
func (w *progressWriter) whyGone(status string) error {
	if status == store.ImportCancelled {
		return ErrImportCancelled
	}
	return ErrImportFinished
}

// stepDone counts one more check done while checking (the checks are
// set-wise statements whose number depends on the file, so there is no
// total to show, only how many are done).
func (w *progressWriter) stepDone() {
	w.mu.Lock()
	if w.p.Phase == store.PhaseChecking {
		w.p.Done++
	}
	w.mu.Unlock()
}

// stop ends the writer.
func (w *progressWriter) stop() {
	w.cancel()
	w.done.Wait()
}

// ended records, after stop, that the run's outcome is committed: the
// phase done, with the final figures.
func (w *progressWriter) ended() {
	w.setPhase(store.PhaseDone, 0)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 5*time.Second)
	defer cancel()
	w.write(ctx)
}
