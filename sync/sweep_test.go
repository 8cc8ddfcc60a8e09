package sync_test

import (
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/store"
)

// TestInboxSweepSyncsAMissedUpload: a complete file in the /in/ of an
// on_upload organisation whose sync was never queued (the door stored it,
// then could not queue FileArrived's job) is synced by the next inbox
// sweep: one sync, its import applied, the file in /processed/. A sweep
// while that sync waits (even with a newer file in /in/, which it will
// take), and one after it, queue nothing; a scheduled organisation's file is
// left to its schedule.
func TestInboxSweepSyncsAMissedUpload(t *testing.T) {
	t.Parallel()
	eachEnv(t, "on_upload", "UTC", func(t *testing.T, e *env) {
		scheduled := e.newOrg("nightly", "0 2 * * *", "UTC")
		e.at("2026-05-04 12:00:00", time.UTC)
		e.tick()
		e.put(e.org, "roster.csv", roster3, e.now)
		e.put(e.org, "next.csv.part", roster3, e.now) // not complete: no sync for it
		e.put(scheduled, "roster.csv", roster3, e.now)

		if n, err := e.sched.SweepInbox(e.ctx); err != nil || n != 1 {
			t.Fatalf("first sweep: %d jobs, %v; want 1", n, err)
		}
		if got := e.pending(); len(got) != 1 || got[0].OrgID != e.org.ID || got[0].FileID == 0 {
			t.Fatalf("sync jobs after the sweep: %+v; want one for the on_upload organisation's file", got)
		}
		// A newer file meanwhile: the waiting sync will take it (the newest
		// of /in/), so the sweep queues no second sync.
		e.put(e.org, "later.csv", roster3, e.now.Add(time.Minute))
		if n, err := e.sched.SweepInbox(e.ctx); err != nil || n != 0 {
			t.Errorf("sweep while the sync waits: %d jobs, %v; want 0", n, err)
		}
		res := e.work()
		if len(res) != 1 || res[0].Import == nil || res[0].Import.FileName != "later.csv" || len(res[0].Superseded) != 1 {
			t.Fatalf("sync run = %+v; want an import of later.csv superseding roster.csv", res)
		}
		done, err := e.svc.ImportProcess(e.ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: res[0].Import.ID})
		if err != nil {
			t.Fatal(err)
		}
		out := done.Import
		if out.Status != store.ImportSucceeded || out.Created != 3 {
			t.Fatalf("import of the swept file: %+v, %v; want succeeded with 3 created", out, err)
		}
		processed, err := store.DoorFiles(e.ctx, e.db, store.DoorFilesParams{OrgID: e.org.ID, Door: store.DoorSFTP})
		if err != nil {
			t.Fatal(err)
		}
		if len(processed) != 2 || processed[0].FileName != "roster.csv" || processed[1].ImportID != out.ID || processed[1].FileName != "later.csv" {
			t.Errorf("/processed/ = %+v; want roster.csv (superseded), then later.csv of import %s", processed, out.ID)
		}
		if got := e.inbox(e.org); len(got) != 1 || got[0] != "next.csv.part" {
			t.Errorf("/in/ = %v; want only the temporary file left", got)
		}
		if n, err := e.sched.SweepInbox(e.ctx); err != nil || n != 0 {
			t.Errorf("sweep after the sync: %d jobs, %v; want 0", n, err)
		}
		if got := e.pending(); len(got) != 0 {
			t.Errorf("sync jobs after the last sweep: %+v; want none", got)
		}
		if n := len(e.imports(e.org)); n != 2 {
			t.Errorf("%d imports, want 2 (one applied, one superseded)", n)
		}
		if n := len(e.imports(scheduled)); n != 0 {
			t.Errorf("the scheduled organisation has %d imports; its file waits for its schedule", n)
		}
	})
}
