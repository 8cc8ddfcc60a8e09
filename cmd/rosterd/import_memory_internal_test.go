package main

import (
	"testing"

	"rosterd/store"
)

// The import's memory limit, as measured (importMemoryLimit). What it
// guards is the choice a user would see in the peak RSS: a re-sync of a
// million users on PostgreSQL keeps 34 MiB (its table within it; with the
// table on top, 46 MiB, its peak went from 61 to 70 MiB), a first import on
// SQLite streams in 22 while it reads and 18 after. The table's size is written out here as
// importer's knownRowsBytes makes it.
func TestImportMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	table := int64(1_000_000*12 + (1<<16+1)*4) // a million known users
	for _, c := range []struct {
		d        store.Dialect
		held     int64
		reading  bool
		min, max int64
	}{
		{store.SQLite, 0, true, 22 * mib, 22 * mib},
		{store.SQLite, 0, false, 18 * mib, 18 * mib},
		{store.SQLite, table, true, 33 * mib, 35 * mib},
		{store.Postgres, 0, true, 34 * mib, 34 * mib},
		{store.Postgres, 0, false, 34 * mib, 34 * mib},
		{store.Postgres, table, true, 34 * mib, 35 * mib},
	} {
		if got := importMemoryLimit(c.d, c.held, c.reading); got < c.min || got > c.max {
			t.Errorf("%s, %d bytes held, reading %v: limit %.1f MiB, want %.0f-%.0f", c.d, c.held, c.reading, float64(got)/mib, float64(c.min)/mib, float64(c.max)/mib)
		}
	}
}

// The limit follows the run as rosterd import is told of it: the table
// while it is held, the reading budget while the file is read, again when
// a run taken again reads again, and no limit set when nothing changed.
func TestMemoryLimitFollowsTheRun(t *testing.T) {
	const mib = 1 << 20
	const table = 12 * mib
	var set []int64
	l := newMemoryLimit(store.SQLite, func(n int64) { set = append(set, n) })
	l.reading(true)  // the first progress report: nothing changes
	l.hold(table)    // the known fingerprints, before the read
	l.reading(true)  // still reading
	l.reading(false) // checking
	l.reading(false) // still checking
	l.hold(0)        // the checks are done with the table
	l.reading(true)  // ErrImportBusy: the run is taken again and reads again
	l.hold(table)    // its own table
	want := []int64{22 * mib, 22*mib + table, 18*mib + table, 18 * mib, 22 * mib, 22*mib + table}
	if len(set) != len(want) {
		t.Fatalf("limits set %v MiB, want %v", inMiB(set), inMiB(want))
	}
	for i := range want {
		if set[i] != want[i] {
			t.Fatalf("limits set %v MiB, want %v", inMiB(set), inMiB(want))
		}
	}
}

func inMiB(ns []int64) []float64 {
	out := make([]float64, len(ns))
	for i, n := range ns {
		out[i] = float64(n) / (1 << 20)
	}
	return out
}
