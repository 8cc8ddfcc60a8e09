package store_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

// finishedImport records an import of org with an upload and, when
// withErrors, an errors CSV, ended with status at finished.
func finishedImport(t *testing.T, db *store.DB, orgID int64, status string, finished time.Time, withErrors bool) *store.Import {
	t.Helper()
	ctx := context.Background()
	f, err := store.FileCreate(ctx, db, orgID, "roster.csv", strings.NewReader("external_id\n1\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	im := &store.Import{OrgID: orgID, Door: store.DoorCLI, Mode: "full", FileName: "roster.csv", FileID: f.ID, SizeBytes: f.SizeBytes}
	if err := store.ImportCreate(ctx, db, im); err != nil {
		t.Fatal(err)
	}
	if withErrors {
		ef, err := store.FileCreate(ctx, db, orgID, im.ID+".csv", strings.NewReader("external_id;errors\n1;bad\n"), 0)
		if err != nil {
			t.Fatal(err)
		}
		im.ErrorsFileID = &ef.ID
		im.Failed = 1
	}
	finished = finished.UTC()
	im.Status, im.FinishedAt = status, &finished
	if err := store.ImportFinishFrom(ctx, db, im, store.ImportQueued); err != nil {
		t.Fatal(err)
	}
	return im
}

func chunksOf(t *testing.T, db *store.DB, fileID int64) int {
	t.Helper()
	var n int
	if err := db.GetContext(context.Background(), &n, db.Rebind(`SELECT COUNT(*) FROM file_chunks WHERE file_id = ?`), fileID); err != nil {
		t.Fatal(err)
	}
	return n
}

func fileExists(t *testing.T, db *store.DB, id int64) bool {
	t.Helper()
	var n int
	if err := db.GetContext(context.Background(), &n, db.Rebind(`SELECT COUNT(*) FROM files WHERE id = ?`), id); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// file_retention: the files of imports finished longer ago go, their
// records stay and say so; files no import refers to go an hour after
// their last write; everything else stays. The clock is injected.
func TestFilesSweep(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		const retention = 90 * 24 * time.Hour
		now := time.Now()
		var old []*store.Import
		for _, st := range []string{store.ImportCompletedWithErrors, store.ImportSucceeded, store.ImportFailed, store.ImportCancelled} {
			old = append(old, finishedImport(t, db, org.ID, st, now.Add(-retention-time.Hour), st == store.ImportCompletedWithErrors))
		}
		recent := finishedImport(t, db, org.ID, store.ImportCompletedWithErrors, now.Add(-retention+24*time.Hour), true)
		held := finishedImport(t, db, org.ID, store.ImportHeld, now.Add(-2*retention), true)

		// An upload whose process died after its first chunk, and an errors
		// CSV that a re-run replaced: no import refers to either.
		w, err := store.FileUploadWriter(ctx, db, org.ID, "cut.csv", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(bytes.Repeat([]byte("x"), store.ChunkSize+10)); err != nil {
			t.Fatal(err)
		}
		replaced, err := store.FileCreate(ctx, db, org.ID, "replaced.csv", strings.NewReader("a;errors\n"), 0)
		if err != nil {
			t.Fatal(err)
		}

		sweep := func(at time.Time) store.FilesSweepResult {
			t.Helper()
			res, err := store.FilesSweep(ctx, db, store.FilesSweepParams{Now: at, Retention: retention, Batch: 2})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		// Now: the unreferenced files were written just now (an upload may
		// still be streaming), so only the old imports' files go.
		if res := sweep(now); res != (store.FilesSweepResult{ImportsExpired: 4, UploadsEmptied: 4, FilesDeleted: 1}) {
			t.Errorf("first sweep = %+v; want 4 imports expired, 4 uploads emptied, 1 errors CSV deleted", res)
		}
		if !fileExists(t, db, w.ID()) || chunksOf(t, db, w.ID()) != 1 || !fileExists(t, db, replaced.ID) {
			t.Errorf("a file written less than an hour ago was deleted")
		}
		for _, im := range old {
			got, err := store.ImportGet(ctx, db, org.ID, im.ID)
			if err != nil {
				t.Fatalf("the record of an expired import is gone: %v", err)
			}
			if got.FilesExpiredAt == nil || got.ErrorsFileID != nil || got.Status != im.Status || got.Failed != im.Failed {
				t.Errorf("expired import = %s expired %v errors file %v failed %d; want its record with files_expired_at set and no errors file",
					got.Status, got.FilesExpiredAt, got.ErrorsFileID, got.Failed)
			}
			if n := chunksOf(t, db, im.FileID); n != 0 {
				t.Errorf("expired import %s still stores %d chunks of its upload", im.Status, n)
			}
			if im.ErrorsFileID != nil && fileExists(t, db, *im.ErrorsFileID) {
				t.Errorf("the errors CSV of an expired import is still stored")
			}
		}
		for _, im := range []*store.Import{recent, held} {
			got, err := store.ImportGet(ctx, db, org.ID, im.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.FilesExpiredAt != nil || got.ErrorsFileID == nil || chunksOf(t, db, im.FileID) != 1 || chunksOf(t, db, *im.ErrorsFileID) != 1 {
				t.Errorf("%s import finished %s ago lost its files", im.Status, now.Sub(*im.FinishedAt).Round(time.Hour))
			}
		}

		// Two hours later the cut-off upload and the replaced CSV go too.
		if res := sweep(now.Add(2 * time.Hour)); res != (store.FilesSweepResult{FilesDeleted: 2}) {
			t.Errorf("sweep two hours later = %+v; want the 2 unreferenced files deleted", res)
		}
		if fileExists(t, db, w.ID()) || chunksOf(t, db, w.ID()) != 0 || fileExists(t, db, replaced.ID) {
			t.Errorf("an abandoned upload or a replaced errors CSV is still stored")
		}
		if res := sweep(now.Add(2 * time.Hour)); res != (store.FilesSweepResult{}) {
			t.Errorf("a second sweep did %+v; want nothing", res)
		}
		var imports int
		if err := db.GetContext(ctx, &imports, `SELECT COUNT(*) FROM imports`); err != nil || imports != 6 {
			t.Errorf("%d import records after the sweeps (err %v); want all 6", imports, err)
		}
	})
}
