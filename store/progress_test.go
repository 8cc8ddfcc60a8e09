package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// A run's first progress replaces whatever the progress store holds for
// that run or a later one: after a backup is restored beside a newer
// progress file, the import's next run is shown as it goes instead of
// being frozen behind the other history's "done".
func TestProgressOfARunBeginsAfresh(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		set := func(f func(context.Context, *store.DB, *store.ImportProgress) error, run int64, phase string, rows int64) {
			t.Helper()
			if err := f(ctx, db, &store.ImportProgress{ImportID: "imp_1", Run: run, Phase: phase, RowsRead: rows}); err != nil {
				t.Fatal(err)
			}
		}
		want := func(what string, run int64, phase string, rows int64) {
			t.Helper()
			p, err := store.ImportProgressGet(ctx, db, "imp_1")
			if err != nil || p == nil {
				t.Fatalf("%s: progress %v, %v", what, p, err)
			}
			if p.Run != run || p.Phase != phase || p.RowsRead != rows {
				t.Fatalf("%s: run %d %s %d rows, want run %d %s %d rows", what, p.Run, p.Phase, p.RowsRead, run, phase, rows)
			}
		}
		set(store.ImportProgressBegin, 3, store.PhaseReading, 0)
		set(store.ImportProgressSet, 3, store.PhaseDone, 500)
		set(store.ImportProgressSet, 3, store.PhaseReading, 10)
		want("a late tick of the ended run", 3, store.PhaseDone, 500)
		// The database says the next run is 3 again (a restored backup).
		set(store.ImportProgressBegin, 3, store.PhaseReading, 0)
		set(store.ImportProgressSet, 3, store.PhaseReading, 40)
		want("the run begun again", 3, store.PhaseReading, 40)
		set(store.ImportProgressSet, 2, store.PhaseSaving, 90)
		want("a late write of an older run", 3, store.PhaseReading, 40)
	})
}

// A damaged progress file (a disk that lost its end, a file overwritten by
// mistake) never keeps the daemon from starting: it only holds the latest
// figures of runs, so it is made anew.
func TestDamagedProgressFileIsMadeAnew(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "rosterd.db")
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.WriteFile(path+"-progress", []byte(strings.Repeat("not a database ", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatalf("open with a damaged progress file: %v", err)
	}
	defer db.Close()
	if err := store.ImportProgressBegin(ctx, db, &store.ImportProgress{ImportID: "imp_1", Run: 1, Phase: store.PhaseReading, RowsRead: 7}); err != nil {
		t.Fatal(err)
	}
	if p, err := store.ImportProgressGet(ctx, db, "imp_1"); err != nil || p == nil || p.RowsRead != 7 {
		t.Fatalf("progress after the file was made anew: %v, %v", p, err)
	}
}
