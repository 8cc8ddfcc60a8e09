package metrics

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"rosterd/importer"
	"rosterd/jobs"
	"rosterd/store"
	"rosterd/store/storetest"
)

// TestOrphanedImportCounted: an import whose job ended without finishing it
// is ended failed by FailOrphans, counted in rosterd_imports_total with its
// final status, and logged at INFO with its id and organisation; a second
// sweep finds it ended and counts nothing more.
func TestOrphanedImportCounted(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var logs lockedBuffer
		log := slog.New(slog.NewJSONHandler(&logs, nil))
		m := New(db, log)
		if err := jobs.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		client, err := jobs.New(db, jobs.Params{})
		if err != nil {
			t.Fatal(err)
		}
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		f, err := store.FileCreate(ctx, db, org.ID, "roster.csv", strings.NewReader("external_id\nE1\n"), 0)
		if err != nil {
			t.Fatal(err)
		}
		im := &store.Import{OrgID: org.ID, Door: store.DoorSFTP, Mode: "full", FileName: "roster.csv",
			FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes}
		if err := store.ImportCreate(ctx, db, im); err != nil {
			t.Fatal(err)
		}
		res, err := client.Insert(ctx, jobs.ImportArgs{ImportID: im.ID}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.JobCancel(ctx, res.Job.ID); err != nil {
			t.Fatal(err)
		}
		failed := func() float64 {
			t.Helper()
			fams, err := m.reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, fam := range fams {
				if fam.GetName() != "rosterd_imports_total" {
					continue
				}
				for _, s := range fam.GetMetric() {
					l := map[string]string{}
					for _, p := range s.GetLabel() {
						l[p.GetName()] = p.GetValue()
					}
					if l["door"] == "sftp" && l["mode"] == "full" && l["outcome"] == store.ImportFailed {
						return s.GetCounter().GetValue()
					}
				}
			}
			return 0
		}
		if got := failed(); got != 0 {
			t.Fatalf("rosterd_imports_total{door=sftp,mode=full,outcome=failed} before the sweep = %v, want 0", got)
		}
		for range 2 {
			if _, err := importer.FailOrphans(ctx, db, client, m, log); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := store.ImportStatus(ctx, db, im.ID); err != nil || got != store.ImportFailed {
			t.Fatalf("orphaned import: %s %v, want failed", got, err)
		}
		if got := failed(); got != 1 {
			t.Errorf("rosterd_imports_total{door=sftp,mode=full,outcome=failed} after two sweeps = %v, want 1", got)
		}
		var line string
		for l := range strings.Lines(logs.String()) {
			if strings.Contains(l, im.ID) {
				if line != "" {
					t.Errorf("the orphan is logged twice:\n%s%s", line, l)
				}
				line = l
			}
		}
		if !strings.Contains(line, `"level":"INFO"`) || !strings.Contains(line, `"org_id":`) || !strings.Contains(line, `"status":"failed"`) {
			t.Errorf("log of the orphan = %q; want one INFO line with its id, organisation and status", line)
		}
	})
}

// lockedBuffer is a log sink safe for River's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
