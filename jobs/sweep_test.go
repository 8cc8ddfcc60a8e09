package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"rosterd/jobs"
	"rosterd/store"
	"rosterd/store/storetest"
)

// A daemon's River client inserts the sweep as it starts (it is the only
// daemon, so River's leader) and its worker deletes the files past
// file_retention.
func TestFilesSweepRunsFromTheSchedule(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := jobs.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		f, err := store.FileCreate(ctx, db, org.ID, "r.csv", strings.NewReader("external_id\n1\n"), 0)
		if err != nil {
			t.Fatal(err)
		}
		im := &store.Import{OrgID: org.ID, Door: store.DoorCLI, Mode: "partial", FileName: "r.csv", FileID: f.ID}
		if err := store.ImportCreate(ctx, db, im); err != nil {
			t.Fatal(err)
		}
		finished := time.Now().UTC().AddDate(0, 0, -100)
		im.Status, im.FinishedAt = store.ImportSucceeded, &finished
		if err := store.ImportFinishFrom(ctx, db, im, store.ImportQueued); err != nil {
			t.Fatal(err)
		}

		workers := river.NewWorkers()
		river.AddWorker(workers, &jobs.FilesSweepWorker{DB: db, Retention: 90 * 24 * time.Hour})
		client, err := jobs.New(db, jobs.Params{Workers: workers, MaxWorkers: 1, PollInterval: 100 * time.Millisecond,
			RescueAfter: time.Minute, PeriodicJobs: []*river.PeriodicJob{jobs.FilesSweepDaily()}})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = client.Stop(ctx) }()

		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			got, err := store.ImportGet(ctx, db, org.ID, im.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.FilesExpiredAt != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the files of an import finished 100 days ago were not expired within 30 s of the daemon starting")
			}
		}
	})
}
