package httpd_test

import (
	"testing"
	"time"

	"rosterd/ingest/httpd"
	"rosterd/store"
)

// A reader that reads an import while it processes and its progress just
// after the run committed (it records done after its commit) gets the two
// from either side of the commit: the page and the API show the run
// finishing, with its figures, not back at reading (a watcher of the
// progress saw run 2 go from finishing to reading at this moment, under
// load, in TestApprovedSyncRunsAgainWithFreshProgress).
func TestProgressReadAcrossTheCommit(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rec := &store.ImportProgress{ImportID: "imp_1", Run: 2, Phase: store.PhaseDone, RowsRead: 20, BytesRead: 900, UpdatedAt: at}
	rec.SetPhaseTimes(map[string]time.Time{store.PhaseReading: at, store.PhaseFinishing: at, store.PhaseDone: at})
	im := &store.Import{ID: "imp_1", Status: store.ImportProcessing, Run: 2, SizeBytes: 900, Progress: rec}
	im.RowsRead, im.BytesRead = rec.RowsRead, rec.BytesRead
	p := httpd.NewImportView(im, "acme", "http://rosterd.test").Progress
	if p.Run != 2 || p.Phase != store.PhaseFinishing || p.RowsRead != 20 || p.BytesRead != 900 {
		t.Errorf("progress = run %d %s, %d rows, %d bytes; want run 2 finishing, 20 rows, 900 bytes", p.Run, p.Phase, p.RowsRead, p.BytesRead)
	}
	if n := len(p.Phases); n == 0 || p.Phases[n-1].Phase != store.PhaseFinishing {
		t.Errorf("phases begun = %+v, want them to end with finishing, as the phase shown", p.Phases)
	}
}
