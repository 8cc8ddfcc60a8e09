package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rosterd/store"
)

// TestRowsBatchStoresWhatBindingStored: a row read through a rosterd_rows
// table is stored as the same values bound to an INSERT … VALUES were, type
// for type (the staging of every SQLite import goes this way); a row of the
// wrong length fails the statement instead of storing NULLs or dropping
// values.
func TestRowsBatchStoresWhatBindingStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "rows.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cols := []string{"i", "s", "n", "b", "t", "blob", "nilblob", "valuer", "nullvaluer"}
	for _, tbl := range []string{"bound", "read"} {
		if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE `+tbl+` (i INTEGER, s TEXT, n TEXT, b INTEGER, t TEXT, blob BLOB, nilblob BLOB, valuer TEXT, nullvaluer TEXT)`); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 12, 7, 9, 30, 0, 123_000_000, time.FixedZone("CET", 3600))
	row := []any{42, "Zoë O'Brien", nil, true, at, []byte{0, 1}, []byte(nil), sql.NullString{String: "x", Valid: true}, sql.NullString{}}
	if _, err := conn.ExecContext(ctx, `INSERT INTO bound (`+strings.Join(cols, ", ")+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, row...); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, store.RowsTableSQL("read_in", cols)); err != nil {
		t.Fatal(err)
	}
	insert := `INSERT INTO read (` + strings.Join(cols, ", ") + `) SELECT ` + strings.Join(cols, ", ") + ` FROM temp.read_in WHERE batch = ?`
	h, release := store.RowsBatch([][]any{row})
	_, err = conn.ExecContext(ctx, insert, h)
	release()
	if err != nil {
		t.Fatal(err)
	}
	dump := func(tbl string) string {
		t.Helper()
		var out string
		q := `SELECT ` + strings.Join(func() []string {
			var parts []string
			for _, c := range cols {
				parts = append(parts, `typeof(`+c+`) || ':' || coalesce(quote(`+c+`), 'NULL')`)
			}
			return parts
		}(), ` || ' | ' || `) + ` FROM ` + tbl
		if err := conn.QueryRowContext(ctx, q).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got, want := dump("read"), dump("bound"); got != want {
		t.Errorf("read through rosterd_rows: %s\nbound:                     %s", got, want)
	}

	h, release = store.RowsBatch([][]any{row[:5]})
	defer release()
	if _, err := conn.ExecContext(ctx, insert, h); err == nil || !strings.Contains(err.Error(), "5 values for 9 columns") {
		t.Errorf("a row of 5 values for 9 columns: %v, want refused", err)
	}
}
