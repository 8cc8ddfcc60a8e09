package metrics

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestQueueGauges: the queue depth and the oldest queued import's age are
// read from the database at each scrape.
func TestQueueGauges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := New(db, slog.New(slog.DiscardHandler))
		gauges := func() (queued, processing, age float64) {
			t.Helper()
			fams, err := m.reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			queued, processing, age = -1, -1, -1
			for _, f := range fams {
				for _, s := range f.GetMetric() {
					switch f.GetName() {
					case "rosterd_import_queue_depth":
						switch s.GetLabel()[0].GetValue() {
						case "queued":
							queued = s.GetGauge().GetValue()
						case "processing":
							processing = s.GetGauge().GetValue()
						}
					case "rosterd_import_queue_oldest_age_seconds":
						age = s.GetGauge().GetValue()
					}
				}
			}
			return queued, processing, age
		}
		if q, p, a := gauges(); q != 0 || p != 0 || a != 0 {
			t.Errorf("empty queue: queued %v, processing %v, oldest age %v; want 0, 0, 0", q, p, a)
		}

		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, name := range []string{"a.csv", "b.csv", "c.csv"} {
			f, err := store.FileCreate(ctx, db, org.ID, name, strings.NewReader("external_id\nE1\n"), 0)
			if err != nil {
				t.Fatal(err)
			}
			im := &store.Import{OrgID: org.ID, Door: store.DoorAPI, Mode: "partial", FileName: name,
				FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes}
			if err := store.ImportCreate(ctx, db, im); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, im.ID)
		}
		// The first is running; the second has waited 90 s.
		if err := store.ImportStart(ctx, db, ids[0], time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE imports SET created_at = ? WHERE id = ?`), time.Now().UTC().Add(-90*time.Second), ids[1]); err != nil {
			t.Fatal(err)
		}
		q, p, a := gauges()
		if q != 2 || p != 1 {
			t.Errorf("queued %v, processing %v; want 2, 1", q, p)
		}
		if a < 90 || a > 150 {
			t.Errorf("oldest queued age %v s, want about 90", a)
		}
	})
}
