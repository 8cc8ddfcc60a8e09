package store_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

// withErrorsWorkbook records an errors workbook for im, as a workbook
// upload's run does beside its errors CSV.
func withErrorsWorkbook(t *testing.T, db *store.DB, im *store.Import) int64 {
	t.Helper()
	ctx := context.Background()
	f, err := store.FileCreate(ctx, db, im.OrgID, im.ID+".xlsx", strings.NewReader("PK\x03\x04 a workbook"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE imports SET errors_xlsx_file_id = ? WHERE id = ?`), f.ID, im.ID); err != nil {
		t.Fatal(err)
	}
	return f.ID
}

// The errors workbook lives as long as the errors CSV: it goes with the
// import's files at file_retention, and is never taken for an unreferenced
// file while its import keeps it.
func TestFilesSweepErrorsWorkbook(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		const retention = 90 * 24 * time.Hour
		now := time.Now()
		old := finishedImport(t, db, org.ID, store.ImportCompletedWithErrors, now.Add(-retention-time.Hour), true)
		oldBook := withErrorsWorkbook(t, db, old)
		recent := finishedImport(t, db, org.ID, store.ImportCompletedWithErrors, now.Add(-24*time.Hour), true)
		recentBook := withErrorsWorkbook(t, db, recent)

		res, err := store.FilesSweep(ctx, db, store.FilesSweepParams{Now: now.Add(2 * time.Hour), Retention: retention, Batch: 10})
		if err != nil {
			t.Fatal(err)
		}
		if res.ImportsExpired != 1 || res.FilesDeleted != 2 {
			t.Errorf("sweep = %+v; want 1 import expired, its errors CSV and workbook deleted", res)
		}
		got, err := store.ImportGet(ctx, db, org.ID, old.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ErrorsXLSXFileID != nil || fileExists(t, db, oldBook) {
			t.Errorf("the expired import's errors workbook: still named %v, stored %v", got.ErrorsXLSXFileID, fileExists(t, db, oldBook))
		}
		got, err = store.ImportGet(ctx, db, org.ID, recent.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ErrorsXLSXFileID == nil || *got.ErrorsXLSXFileID != recentBook || chunksOf(t, db, recentBook) != 1 {
			t.Errorf("a recent import's errors workbook, written over an hour ago, was deleted (%v)", got.ErrorsXLSXFileID)
		}
	})
}

// A database migrated by a binary that had migration 00021 and not 00019
// and 00020 (numbered after 00021 shipped) gets both on the next start,
// and is then current.
func TestMigrationNumberedBelowAnAppliedOne(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := openMigratedTo(t, d, 18)
			if err := db.MigrateApply(ctx, 21); err != nil {
				t.Fatal(err)
			}
			if ok, err := db.SchemaCurrent(ctx); err != nil || ok {
				t.Errorf("SchemaCurrent without 00019 and 00020 = %v, %v; want false", ok, err)
			}
			n, err := db.Migrate(ctx)
			if err != nil {
				t.Fatalf("migrate a database without 00019 and 00020: %v", err)
			}
			// 00019, 00020, and every migration numbered after 00021.
			files, err := filepath.Glob(filepath.Join("migrations", string(d), "*.sql"))
			if err != nil {
				t.Fatal(err)
			}
			want, after := 2, []string{}
			for _, f := range files {
				if v, err := strconv.Atoi(filepath.Base(f)[:5]); err == nil && v > 21 {
					want, after = want+1, append(after, filepath.Base(f))
				}
			}
			if n != want || want < 3 {
				t.Errorf("migrations applied = %d, want %d (00019, 00020 and those after 00021: %v)", n, want, after)
			}
			if ok, err := db.SchemaCurrent(ctx); err != nil || !ok {
				t.Errorf("SchemaCurrent after = %v, %v; want true", ok, err)
			}
			org := store.NewOrg("acme", "Acme")
			if err := store.OrgCreate(ctx, db, &org); err != nil {
				t.Fatal(err)
			}
			im := finishedImport(t, db, org.ID, store.ImportCompletedWithErrors, time.Now(), true)
			book := withErrorsWorkbook(t, db, im)
			if got, err := store.ImportGet(ctx, db, org.ID, im.ID); err != nil || got.ErrorsXLSXFileID == nil || *got.ErrorsXLSXFileID != book {
				t.Errorf("errors workbook after the migration = %v (%v), want file %d", got, err, book)
			}
		})
	}
}
