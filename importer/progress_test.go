package importer_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/ingest/httpd"
	"rosterd/store"
	"rosterd/store/storetest"
)

// progressOf is an import's progress as the API, the page and the command
// line show it, read as another process would (a fresh read of the
// database, not the run's own state).
func progressOf(t *testing.T, db *store.DB, id string) (*store.Import, httpd.Progress) {
	t.Helper()
	im, p, err := readProgress(db, id)
	if err != nil {
		t.Fatal(err)
	}
	return im, p
}

func readProgress(db *store.DB, id string) (*store.Import, httpd.Progress, error) {
	ctx := context.Background()
	im, err := store.ImportLookup(ctx, db, id)
	if err != nil {
		return nil, httpd.Progress{}, err
	}
	if err := store.ImportWithProgress(ctx, db, im); err != nil {
		return nil, httpd.Progress{}, err
	}
	return im, httpd.NewImportView(im, "acme", "http://rosterd.test").Progress, nil
}

// listedProgress is the import's progress as the import list (API, CLI
// import list) shows it.
func listedProgress(db *store.DB, im *store.Import) (httpd.Progress, error) {
	ctx := context.Background()
	list, err := store.ImportList(ctx, db, store.ImportListParams{OrgID: im.OrgID, Limit: 100})
	if err != nil {
		return httpd.Progress{}, err
	}
	if err := store.ImportsWithProgress(ctx, db, list); err != nil {
		return httpd.Progress{}, err
	}
	for i := range list {
		if list[i].ID == im.ID {
			return httpd.NewImportView(&list[i], "acme", "http://rosterd.test").Progress, nil
		}
	}
	return httpd.Progress{}, fmt.Errorf("import %s is not in the list", im.ID)
}

// TestApprovedSyncRunsAgainWithFreshProgress: approving a held sync shows
// it queued with nothing read and no finish time (not the held run's 100%
// and its finish time); its re-run is run 2, which starts from nothing
// read, shows every phase in order while its transaction is open (on SQLite
// too, where that transaction holds the write lock), and never moves back;
// a late write of run 1 changes nothing.
func TestApprovedSyncRunsAgainWithFreshProgress(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.importFile(importer.ModeFull, fullRoster(1, 40))
		held := e.importFile(importer.ModeFull, fullRoster(1, 20))
		if held.Status != store.ImportHeld {
			t.Fatalf("sync = %s, want held", held.Status)
		}
		im, p := progressOf(t, db, held.ID)
		if p.Run != 1 || p.Phase != store.PhaseDone || p.RowsRead != 20 || im.FinishedAt == nil {
			t.Fatalf("held: run %d phase %s rows %d finished %v", p.Run, p.Phase, p.RowsRead, im.FinishedAt)
		}

		if err := store.ImportApprove(ctx, db, e.org.ID, held.ID, "test"); err != nil {
			t.Fatal(err)
		}
		im, p = progressOf(t, db, held.ID)
		v := httpd.NewImportView(im, "acme", "")
		// Run 2 queued: (run, phase) does not go back from run 1 done.
		if v.Status != store.ImportQueued || p.Run != 2 || p.Phase != store.PhaseQueued || p.RowsRead != 0 || p.BytesRead != 0 ||
			len(p.Phases) != 0 || v.FinishedAt != nil || v.StartedAt != nil {
			t.Fatalf("approved: status %s run %d phase %s rows %d bytes %d phases %v finished %v started %v, want run 2 queued with nothing read, not started or finished",
				v.Status, p.Run, p.Phase, p.RowsRead, p.BytesRead, p.Phases, v.FinishedAt, v.StartedAt)
		}

		// Watch the re-run from outside, as a page polling the API does,
		// while the run is held at each step until the watcher has seen
		// the phase that step is in.
		var (
			mu   sync.Mutex
			seen []httpd.Progress
		)
		stop := make(chan struct{})
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			for {
				_, p, err := readProgress(db, held.ID)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen = append(seen, p)
				mu.Unlock()
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		waitPhase := func(step importer.Step, phase string) {
			deadline := time.Now().Add(10 * time.Second)
			for {
				mu.Lock()
				var last httpd.Progress
				if len(seen) > 0 {
					last = seen[len(seen)-1]
				}
				mu.Unlock()
				if last.Phase == phase && last.Run == 2 {
					// The import list shows the same live phase.
					if listed, err := listedProgress(db, held); err != nil {
						t.Error(err)
					} else if listed.Phase != phase || listed.Run != 2 || listed.RowsRead != last.RowsRead && phase != store.PhaseReading {
						t.Errorf("held at %s, the import list shows run %d %s %d rows, want run 2 %s %d rows as the import itself",
							step, listed.Run, listed.Phase, listed.RowsRead, phase, last.RowsRead)
					}
					return
				}
				if time.Now().After(deadline) {
					t.Errorf("held at %s, the import shows run %d %s, want run 2 %s", step, last.Run, last.Phase, phase)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		want := map[importer.Step]string{importer.StepStaged: store.PhaseReading, importer.StepPlanned: store.PhaseChecking,
			importer.StepApplied: store.PhaseSaving, importer.StepCommitting: store.PhaseFinishing}
		im, err := store.ImportLookup(ctx, db, held.ID)
		if err != nil {
			t.Fatal(err)
		}
		out, err := importer.Run(ctx, db, importer.RunParams{Import: im, Limits: importer.DefaultLimits(), Now: e.now,
			Pause: func(_ context.Context, s importer.Step) {
				if phase, ok := want[s]; ok {
					waitPhase(s, phase)
				}
			}})
		close(stop)
		<-watched
		if err != nil {
			t.Fatal(err)
		}
		if out.Import.Status != store.ImportSucceeded || out.Import.Archived != 20 {
			t.Fatalf("approved run = %s %+v", out.Import.Status, out.Import.Counts)
		}
		_, final := progressOf(t, db, held.ID)
		seen = append(seen, final)

		// Never back: within a run the phase and the figures only grow; run
		// 2 never shows run 1's figures (the first it shows has not read
		// the whole file yet, or is past reading).
		prev := httpd.Progress{Run: 1, Phase: store.PhaseQueued}
		var phases []string
		for _, s := range seen {
			if s.Run < prev.Run || s.Run == prev.Run && store.PhaseOrder(s.Phase) < store.PhaseOrder(prev.Phase) ||
				s.Run == prev.Run && s.Phase == prev.Phase && (s.Done < prev.Done || s.RowsRead < prev.RowsRead) {
				t.Fatalf("progress went back: run %d %s %d/%d rows %d after run %d %s %d/%d rows %d",
					s.Run, s.Phase, s.Done, s.Total, s.RowsRead, prev.Run, prev.Phase, prev.Done, prev.Total, prev.RowsRead)
			}
			if len(phases) == 0 || phases[len(phases)-1] != s.Phase {
				phases = append(phases, s.Phase)
			}
			prev = s
		}
		if final.Run != 2 || final.Phase != store.PhaseDone || final.RowsRead != 20 {
			t.Errorf("after the re-run: run %d %s rows %d", final.Run, final.Phase, final.RowsRead)
		}
		var order []string
		for _, ph := range final.Phases {
			order = append(order, ph.Phase)
		}
		if got, want := order, []string{"reading", "checking", "saving", "finishing", "done"}; !equal(got, want) {
			t.Errorf("run 2's phases = %v, want %v", got, want)
		}
		t.Logf("phases seen from outside: %v", phases)

		// A late write of run 1, or a stale tick of run 2, moves nothing back.
		for _, late := range []store.ImportProgress{{ImportID: held.ID, Run: 1, Phase: store.PhaseReading, RowsRead: 3},
			{ImportID: held.ID, Run: 2, Phase: store.PhaseSaving, RowsRead: 20}} {
			if err := store.ImportProgressSet(ctx, db, &late); err != nil {
				t.Fatal(err)
			}
			if _, p := progressOf(t, db, held.ID); p.Run != 2 || p.Phase != store.PhaseDone || p.RowsRead != 20 {
				t.Errorf("after a late write of run %d %s: run %d %s rows %d", late.Run, late.Phase, p.Run, p.Phase, p.RowsRead)
			}
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
