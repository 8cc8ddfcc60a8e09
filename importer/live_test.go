package importer_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"rosterd/importer"
	"rosterd/jobs"
	"rosterd/notify"
	"rosterd/store"
	"rosterd/store/storetest"
)

// record stores content as a queued import of e's organisation without
// running it.
func (e *env) record(mode importer.Mode, content string) *store.Import {
	e.t.Helper()
	ctx := context.Background()
	f, err := store.FileCreate(ctx, e.db, e.org.ID, "roster.csv", strings.NewReader(content), 0)
	if err != nil {
		e.t.Fatal(err)
	}
	im := &store.Import{OrgID: e.org.ID, Door: store.DoorCLI, Mode: string(mode), FileName: "roster.csv",
		FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes}
	if err := store.ImportCreate(ctx, e.db, im); err != nil {
		e.t.Fatal(err)
	}
	return im
}

func (e *env) status(id string) string {
	e.t.Helper()
	s, err := store.ImportStatus(context.Background(), e.db, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// TestCancelDeadProcessingImport: an import left processing by a runner that
// died can be cancelled, and the organisation's next import goes ahead at once.
func TestCancelDeadProcessingImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.seed(3)
		dead := e.record(importer.ModePartial, fullRoster(1, 5))
		// What a killed runner leaves behind: started, never finished.
		if err := store.ImportStart(ctx, db, dead.ID, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		next := e.record(importer.ModePartial, fullRoster(1, 4))
		if older, err := importer.OlderPending(ctx, db, next); err != nil || !older {
			t.Fatalf("OlderPending before the cancel = %v, %v; want the dead import to block", older, err)
		}
		if err := store.ImportCancel(ctx, db, e.org.ID, dead.ID, "test"); err != nil {
			t.Fatalf("cancel a processing import: %v", err)
		}
		if got := e.status(dead.ID); got != store.ImportCancelled {
			t.Fatalf("after cancel: %s, want cancelled", got)
		}
		if older, err := importer.OlderPending(ctx, db, next); err != nil || older {
			t.Fatalf("OlderPending after the cancel = %v, %v; want the next import free to go", older, err)
		}
		out, err := importer.Run(ctx, db, importer.RunParams{Import: next, Limits: importer.DefaultLimits(), Now: e.now})
		if err != nil || out.Import.Status != store.ImportSucceeded || out.Import.Created != 1 {
			t.Fatalf("next import: %v %+v", err, out)
		}
		// A cancelled import stays cancelled: a late run of its job does nothing.
		if _, err := importer.Run(ctx, db, importer.RunParams{Import: dead, Limits: importer.DefaultLimits(), Now: e.now}); !errors.Is(err, importer.ErrImportFinished) {
			t.Errorf("a late run of the cancelled import: %v, want ErrImportFinished", err)
		}
		if e.user("E5") != nil {
			t.Error("E5 exists: the cancelled import was applied")
		}
		if err := store.ImportCancel(ctx, db, e.org.ID, next.ID, "test"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("cancel a succeeded import: %v, want ErrNotFound", err)
		}
	})
}

// TestCancelLiveImport cancels an import while its run is under way: the run
// stops by itself within seconds, nothing of it is applied, and the import
// stays cancelled. On PostgreSQL the cancel lands after the roster was
// written in the open transaction; on SQLite, whose write lock would make the
// cancel wait for the commit, it lands while the file is staged.
func TestCancelLiveImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.seed(3)
		before := e.user("E1")
		im := e.record(importer.ModePartial, strings.ReplaceAll(fullRoster(1, 5), ";Last", ";Changed"))
		at := importer.StepApplied
		if db.Dialect == store.SQLite {
			at = importer.StepStaged
		}
		noticed := false
		_, err := importer.Run(ctx, db, importer.RunParams{Import: im, Limits: importer.DefaultLimits(), Now: e.now,
			Pause: func(ctx context.Context, s importer.Step) {
				if s != at {
					return
				}
				if err := store.ImportCancel(context.Background(), db, e.org.ID, im.ID, "test"); err != nil {
					t.Errorf("cancel at %s: %v", s, err)
				}
				select {
				case <-ctx.Done():
					noticed = true
				case <-time.After(20 * time.Second):
				}
			}})
		if !noticed {
			t.Error("the run went on for 20s after its import was cancelled")
		}
		if !errors.Is(err, importer.ErrImportCancelled) {
			t.Errorf("Run: %v, want ErrImportCancelled", err)
		}
		if got := e.status(im.ID); got != store.ImportCancelled {
			t.Errorf("status %s, want cancelled", got)
		}
		if e.user("E4") != nil || e.user("E5") != nil {
			t.Error("users created by the cancelled import")
		}
		if after := e.user("E1"); after.Plain["last_name"] != before.Plain["last_name"] {
			t.Errorf("E1 last name %q, want %q: the cancelled import was applied", after.Plain["last_name"], before.Plain["last_name"])
		}
	})
}

// startWorker runs w and the e-mail worker (writing to the returned outbox
// folder) under a real River client on db until the test ends.
func startWorker(t *testing.T, db *store.DB, w *importer.Worker) (*jobs.Client, string) {
	t.Helper()
	ctx := context.Background()
	if err := jobs.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	outbox := t.TempDir()
	river.AddWorker(workers, &notify.Worker{Deliverer: &notify.Deliverer{DB: db, Mailer: &notify.Outbox{Dir: outbox},
		Params: notify.ComposeParams{From: "rosterd@acme.test", PublicURL: "https://rosterd.acme.test"}}})
	client, err := jobs.New(db, jobs.Params{Workers: workers, MaxWorkers: 2, PollInterval: 50 * time.Millisecond, RescueAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.StopAndCancel(stop)
	})
	return client, outbox
}

// sentOnce waits until the import's e-mail is delivered and checks that the
// outbox holds exactly one message.
func sentOnce(t *testing.T, db *store.DB, importID, outbox string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var sent int
		if err := db.Get(&sent, db.Rebind(`SELECT COUNT(*) FROM notifications WHERE import_id = ? AND sent_at IS NOT NULL`), importID); err != nil {
			t.Fatal(err)
		}
		if sent > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the e-mail of import %s is not sent after 30s", importID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	files, err := filepath.Glob(filepath.Join(outbox, "*.eml"))
	if err != nil || len(files) != 1 {
		t.Errorf("outbox holds %v (%v), want one e-mail", files, err)
	}
}

// notifiedOnce checks that the import has exactly one stored notification
// and one job to deliver it.
func notifiedOnce(t *testing.T, db *store.DB, client *jobs.Client, importID string) {
	t.Helper()
	var n int
	if err := db.Get(&n, db.Rebind(`SELECT COUNT(*) FROM notifications WHERE import_id = ?`), importID); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d notifications for import %s, want 1", n, importID)
	}
	res, err := client.JobList(context.Background(), river.NewJobListParams().Kinds(jobs.NotifyArgs{}.Kind()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 1 {
		t.Errorf("%d notification jobs, want 1", len(res.Jobs))
	}
}

func waitStatus(t *testing.T, db *store.DB, id string, want string) *store.Import {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		im, err := store.ImportLookup(context.Background(), db, id)
		if err != nil {
			t.Fatal(err)
		}
		if im.Status == want {
			return im
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %s is %s after 30s, want %s", id, im.Status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPanickingImportFailsOnLastAttempt: a run that panics every time is
// retried, and its last attempt ends the import failed with one e-mail;
// the organisation's next import then goes ahead.
func TestPanickingImportFailsOnLastAttempt(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.org.SetNotificationEmails([]string{"hr@acme.test"})
		if _, err := db.Exec(db.Rebind(`UPDATE organisations SET notification_emails = ? WHERE id = ?`), e.org.NotificationEmailsText, e.org.ID); err != nil {
			t.Fatal(err)
		}
		im := e.record(importer.ModePartial, fullRoster(1, 3))
		client, outbox := startWorker(t, db, &importer.Worker{DB: db, Limits: importer.DefaultLimits(), MaxDuration: time.Minute,
			Pause: func(_ context.Context, s importer.Step) {
				if s == importer.StepStaged {
					panic("boom")
				}
			}})
		job, err := client.Insert(ctx, jobs.ImportArgs{ImportID: im.ID}, &river.InsertOpts{MaxAttempts: 2})
		if err != nil {
			t.Fatal(err)
		}
		got := waitStatus(t, db, im.ID, store.ImportFailed)
		if !strings.Contains(got.Error, "boom") {
			t.Errorf("error %q, want it to say what happened", got.Error)
		}
		if row, err := client.JobGet(ctx, job.Job.ID); err != nil || row.Attempt != 2 {
			t.Errorf("job after the import failed: %+v %v; want 2 attempts", row, err)
		}
		if e.user("E1") != nil {
			t.Error("E1 exists: the panicking import applied something")
		}
		notifiedOnce(t, db, client, im.ID)
		if n, err := importer.FailOrphans(ctx, db, client, nil, nil); err != nil || n != 0 {
			t.Errorf("FailOrphans after the give-up: %d, %v; want nothing left to do", n, err)
		}
		notifiedOnce(t, db, client, im.ID)
		sentOnce(t, db, im.ID, outbox)
		// The next import of the organisation is not blocked.
		if older, err := importer.OlderPending(ctx, db, e.record(importer.ModePartial, fullRoster(1, 3))); err != nil || older {
			t.Errorf("OlderPending after the give-up = %v, %v", older, err)
		}
	})
}

// TestImportWhoseJobEndedFails: an import whose job River cancelled (or
// discarded) without running it to the end is ended failed, with one e-mail,
// however often the sweep runs.
func TestImportWhoseJobEndedFails(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		if _, err := db.Exec(db.Rebind(`UPDATE organisations SET notification_emails = 'hr@acme.test' WHERE id = ?`), e.org.ID); err != nil {
			t.Fatal(err)
		}
		if err := jobs.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		client, err := jobs.New(db, jobs.Params{})
		if err != nil {
			t.Fatal(err)
		}
		orphan := e.record(importer.ModePartial, fullRoster(1, 3))
		kept := e.record(importer.ModePartial, fullRoster(1, 3))
		var orphanJob int64
		for _, im := range []*store.Import{orphan, kept} {
			res, err := client.Insert(ctx, jobs.ImportArgs{ImportID: im.ID}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if im == orphan {
				orphanJob = res.Job.ID
			}
		}
		if n, err := importer.FailOrphans(ctx, db, client, nil, nil); err != nil || n != 0 {
			t.Fatalf("FailOrphans with every job alive: %d, %v; want 0", n, err)
		}
		if row, err := client.JobCancel(ctx, orphanJob); err != nil || row.State != rivertype.JobStateCancelled {
			t.Fatalf("cancel job: %+v %v", row, err)
		}
		for range 2 {
			if _, err := importer.FailOrphans(ctx, db, client, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		if got := e.status(orphan.ID); got != store.ImportFailed {
			t.Errorf("import whose job was cancelled: %s, want failed", got)
		}
		if got := e.status(kept.ID); got != store.ImportQueued {
			t.Errorf("import with a live job: %s, want queued", got)
		}
		notifiedOnce(t, db, client, orphan.ID)
	})
}
