package jobs_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"rosterd/jobs"
	"rosterd/store"
	"rosterd/store/storetest"
)

// lockedBuffer is a log the worker writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The daily retention job sweeps the journal past journal_retention as well
// as the files past file_retention, each on its own clock: an import whose
// files expired keeps its journal (its history and revert stay), one past
// journal_retention loses its journal and says so. The job logs what it
// swept.
func TestJournalSweepRunsWithTheFilesSweep(t *testing.T) {
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
		imported := func(daysAgo int, ids ...string) *store.Import {
			t.Helper()
			f, err := store.FileCreate(ctx, db, org.ID, "r.csv", strings.NewReader("external_id\n1\n"), 0)
			if err != nil {
				t.Fatal(err)
			}
			im := &store.Import{OrgID: org.ID, Door: store.DoorCLI, Mode: "partial", FileName: "r.csv", FileID: f.ID}
			if err := store.ImportCreate(ctx, db, im); err != nil {
				t.Fatal(err)
			}
			finished := time.Now().UTC().AddDate(0, 0, -daysAgo)
			im.Status, im.FinishedAt = store.ImportSucceeded, &finished
			if err := store.ImportFinishFrom(ctx, db, im, store.ImportQueued); err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if err := store.ChangeAdd(ctx, db, &store.Change{OrgID: org.ID, ImportID: im.ID, Kind: store.ChangeCreated,
					ExternalID: id, Actor: "cli", At: finished}); err != nil {
					t.Fatal(err)
				}
			}
			return im
		}
		filesGone := imported(100, "1", "2")        // past file_retention (90d), within journal_retention (400d)
		journalGone := imported(401, "3", "4", "5") // past both

		var log lockedBuffer
		workers := river.NewWorkers()
		river.AddWorker(workers, &jobs.FilesSweepWorker{DB: db, Retention: 90 * 24 * time.Hour, JournalRetention: 400 * 24 * time.Hour,
			Logger: slog.New(slog.NewTextHandler(&log, nil))})
		client, err := jobs.New(db, jobs.Params{Workers: workers, MaxWorkers: 1, PollInterval: 100 * time.Millisecond,
			RescueAfter: time.Minute, PeriodicJobs: []*river.PeriodicJob{jobs.FilesSweepDaily()}})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = client.Stop(ctx) }()

		// The journal is swept after the files: its log line is the last.
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(log.String(), "journal entries deleted"); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no journal sweep logged within 30 s of the daemon starting; log:\n%s", log.String())
			}
		}
		if l := log.String(); !strings.Contains(l, "journal_retention=9600h0m0s entries_deleted=3") ||
			!strings.Contains(l, "stored files deleted") {
			t.Errorf("log of the sweep:\n%s\nwant the files and the 3 journal entries deleted, with journal_retention", l)
		}

		count := func(im *store.Import) int {
			n, err := store.ChangeCounts(ctx, db, org.ID, im.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			return n[store.ChangeCreated]
		}
		a, err := store.ImportGet(ctx, db, org.ID, filesGone.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.FilesExpiredAt == nil || a.JournalExpiredAt != nil || count(a) != 2 {
			t.Errorf("import finished 100 days ago: files expired %v, journal expired %v, %d entries; want its files gone and its 2 entries kept",
				a.FilesExpiredAt, a.JournalExpiredAt, count(a))
		}
		b, err := store.ImportGet(ctx, db, org.ID, journalGone.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b.FilesExpiredAt == nil || b.JournalExpiredAt == nil || count(b) != 0 {
			t.Errorf("import finished 401 days ago: files expired %v, journal expired %v, %d entries; want both expired and no entries",
				b.FilesExpiredAt, b.JournalExpiredAt, count(b))
		}
	})
}
