package importer_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// skippedRows reads, from the log of the last import, how many rows it
// skipped as known (their fingerprint matched: nothing to check or write).
type skipLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *skipLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

var skippedRE = regexp.MustCompile(`msg="import finished".* known_rows_skipped=(\d+)`)

func (l *skipLog) last(t *testing.T) string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	m := skippedRE.FindAllStringSubmatch(l.buf.String(), -1)
	if len(m) == 0 {
		t.Fatalf("no \"import finished\" line in the log:\n%s", l.buf.String())
	}
	return m[len(m)-1][1]
}

func (e *env) logSkips() *skipLog {
	l := &skipLog{}
	e.log = slog.New(slog.NewTextHandler(l, nil))
	return l
}

func TestResyncSkipsKnownRowsAndAppliesChangedOnes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		log := e.logSkips()
		roster := fullRoster(1, 5)
		if im := e.importFile(importer.ModeFull, roster); im.Created != 5 || log.last(t) != "0" {
			t.Fatalf("first sync: %s %+v, skipped %s", im.Status, im.Counts, log.last(t))
		}
		writes := e.countUserWrites()
		before := e.user("E3").UpdatedAt
		// Each sync runs an hour after the last: a rewrite would show.
		e.now = e.now.Add(time.Hour)
		if im := e.importFile(importer.ModeFull, roster); im.Unchanged != 5 || im.Status != store.ImportSucceeded || log.last(t) != "5" {
			t.Fatalf("identical re-sync: %s %+v, skipped %s; want 5 unchanged, all skipped", im.Status, im.Counts, log.last(t))
		}
		if got := writes.take(); len(got) != 0 || !e.user("E3").UpdatedAt.Equal(before) {
			t.Errorf("identical re-sync rewrote %v; E3 updated_at %v → %v", got, before, e.user("E3").UpdatedAt)
		}
		e.now = e.now.Add(time.Hour)
		changed := strings.Replace(roster, "Last3", "Married3", 1) + "E6;First6;Last6;BE;nl;e6@example.com\n"
		im := e.importFile(importer.ModeFull, changed)
		if im.Updated != 1 || im.Created != 1 || im.Unchanged != 4 || log.last(t) != "4" {
			t.Fatalf("changed re-sync: %s %+v, skipped %s", im.Status, im.Counts, log.last(t))
		}
		if got := writes.take(); len(got) != 1 || got[0] != "E3" {
			t.Errorf("changed re-sync rewrote %v, want only E3 (E6 is new)", got)
		}
		if u := e.user("E3"); u.Plain["last_name"] != "Married3" || !u.UpdatedAt.Equal(e.now) {
			t.Errorf("E3 = %v (updated %v, want %v)", u.Plain, u.UpdatedAt, e.now)
		}
		// A column order of its own, an unknown column, the status column of
		// an export and CRLF: the rows mean the same, so they are checked
		// once, then skipped. (A full import refuses an errors column.)
		reordered := "email;Last Name;external_id;First_Name;country;preferred_language;notes;status\r\n"
		for _, l := range strings.Split(strings.TrimSpace(changed), "\n")[1:] {
			c := strings.Split(l, ";")
			reordered += strings.Join([]string{c[5], c[2], c[0], c[1], c[3], c[4], "x", "active"}, ";") + "\r\n"
		}
		reordered = strings.Replace(reordered, "email;", "business_email;", 1)
		if im := e.importFile(importer.ModeFull, reordered); im.Unchanged != 6 || log.last(t) != "0" {
			t.Fatalf("reordered columns: %s %+v %s, skipped %s", im.Status, im.Counts, im.Error, log.last(t))
		}
		if im := e.importFile(importer.ModeFull, strings.ReplaceAll(reordered, ";active\r\n", ";archived\r\n")); im.Unchanged != 6 || log.last(t) != "6" {
			t.Fatalf("reordered columns again: %s %+v, skipped %s", im.Status, im.Counts, log.last(t))
		}
	})
}

func TestKnownRowIsAppliedAgainAfterAnotherChange(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		log := e.logSkips()
		roster := fullRoster(1, 3)
		e.importFile(importer.ModeFull, roster)
		// The back office renames E2; the next nightly sync brings the HR
		// system's name back, though its file did not change.
		if im := e.importFile(importer.ModePartial, "external_id;last_name\nE2;Renamed\n"); im.Updated != 1 {
			t.Fatalf("partial: %s %+v", im.Status, im.Counts)
		}
		im := e.importFile(importer.ModeFull, roster)
		if im.Updated != 1 || im.Unchanged != 2 || log.last(t) != "2" {
			t.Fatalf("re-sync after a partial change: %+v, skipped %s; want E2 updated", im.Counts, log.last(t))
		}
		if got := e.user("E2").Plain["last_name"]; got != "Last2" {
			t.Errorf("E2 last_name = %q, want Last2", got)
		}
		// Missing from a sync: archived. Back in the next: restored, not skipped.
		e.importFile(importer.ModeFull, fullRoster(1, 2))
		if e.user("E3").Status != store.StatusArchived {
			t.Fatal("E3 not archived")
		}
		if im := e.importFile(importer.ModeFull, roster); im.Restored != 1 || im.Unchanged != 2 {
			t.Fatalf("E3 back: %+v", im.Counts)
		}
		if e.user("E3").Status != store.StatusActive {
			t.Error("E3 not restored")
		}
	})
}

func TestChangeMadeWhileASyncReadsItsFileIsKeptUntilTheNextSync(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		log := e.logSkips()
		roster := fullRoster(1, 2000)
		e.importFile(importer.ModeFull, roster)
		// While the file is read, somebody else changes E7, as an admin
		// editing a user would: new data and row hash, no fingerprint.
		var once sync.Once
		e.progress = func(rows, bytes int64) {
			once.Do(func() {
				if _, err := db.ExecContext(context.Background(), db.Rebind(`UPDATE users
					SET last_name = 'Edited', row_hash = 'edited', source_hash = NULL
					WHERE org_id = ? AND external_id = 'E7'`), e.org.ID); err != nil {
					t.Error(err)
				}
			})
		}
		// The sync skipped E7 and wrote nothing to it: as if it ran first
		// and the edit after it.
		im := e.importFile(importer.ModeFull, roster)
		if im.Unchanged != 2000 || log.last(t) != "2000" {
			t.Fatalf("re-sync: %s %+v %s, skipped %s", im.Status, im.Counts, im.Error, log.last(t))
		}
		if got := e.user("E7").Plain["last_name"]; got != "Edited" {
			t.Errorf("E7 last_name = %q after the sync, want the edit kept", got)
		}
		// The next sync sees the edit and brings the HR system's name back.
		e.progress = nil
		if im := e.importFile(importer.ModeFull, roster); im.Updated != 1 || log.last(t) != "1999" {
			t.Fatalf("next sync: %+v, skipped %s", im.Counts, log.last(t))
		}
		if got := e.user("E7").Plain["last_name"]; got != "Last7" {
			t.Errorf("E7 last_name = %q, want the file's Last7", got)
		}
	})
}

func TestKnownRowIsReadAgainWhenTheOrganisationsSettingsChange(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		log := e.logSkips()
		roster := "external_id;first_name;last_name;country;preferred_language;business_email;archived_at\n" +
			"E1;Ann;Smith;BE;nl;ann@example.com;2030-01-01\n"
		e.importFile(importer.ModeFull, roster)
		e.org.TimeZone = "Europe/Brussels"
		if err := store.OrgUpdate(context.Background(), db, e.org); err != nil {
			t.Fatal(err)
		}
		if im := e.importFile(importer.ModeFull, roster); im.Updated != 1 || log.last(t) != "0" {
			t.Fatalf("after a time zone change: %+v, skipped %s; want the date read again", im.Counts, log.last(t))
		}
		want := time.Date(2029, 12, 31, 23, 0, 0, 0, time.UTC)
		if at := e.user("E1").ArchivedAt; at == nil || !at.Equal(want) {
			t.Errorf("archived_at = %v, want %v (midnight in Brussels)", at, want)
		}
	})
}

func TestLeaverWhoseDayCameIsArchivedEvenByADryRun(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		roster := "external_id;first_name;last_name;country;preferred_language;business_email;archived_at\n" +
			"E1;Ann;Smith;BE;nl;ann@example.com;\n" +
			"E2;Bob;Jones;BE;nl;bob@example.com;2026-11-30\n"
		e.importFile(importer.ModeFull, roster)
		if im := e.importFile(importer.ModeFull, roster); im.Unchanged != 2 {
			t.Fatalf("re-sync before the day: %+v", im.Counts)
		}
		e.now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		dry := e.importFile(importer.ModeFull, roster, func(im *store.Import) { im.DryRun = true })
		if dry.Archived != 1 || dry.Unchanged != 1 {
			t.Fatalf("dry run after the day: %+v; want E2 archived", dry.Counts)
		}
		if e.user("E2").Status != store.StatusActive {
			t.Fatal("a dry run archived E2")
		}
		if im := e.importFile(importer.ModeFull, roster); im.Unchanged != 2 || e.user("E2").Status != store.StatusArchived {
			t.Fatalf("sync after the day: %+v, E2 %s", im.Counts, e.user("E2").Status)
		}
	})
}

func TestRepeatedKnownRowFailsBothTimes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		roster := fullRoster(1, 3)
		e.importFile(importer.ModeFull, roster)
		twice := roster + "E2;First2;Last2;BE;nl;e2@example.com\n"
		im := e.importFile(importer.ModeFull, twice)
		if im.Failed != 2 || im.Unchanged != 2 || im.Archived != 0 {
			t.Fatalf("repeated row: %+v", im.Counts)
		}
		want := `external_id: ""E2"" appears on lines 3 and 5; an id may appear once in a file`
		if got := e.errorsCSV(im); strings.Count(got, want) != 2 {
			t.Errorf("errors CSV:\n%s\nwant twice: %s", got, want)
		}
	})
}

func TestRowWithAWarningWarnsOnEverySync(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		roster := "external_id;first_name;last_name;country;preferred_language;business_mobile_phone\n" +
			"E1;Ann;Smith;BE;nl;4915123456789\n"
		for i := range 2 {
			im := e.importFile(importer.ModeFull, roster)
			if !strings.Contains(strings.Join(im.Warnings(), "\n"), "+4915123456789") {
				t.Fatalf("sync %d: warnings %q; want the lost + named", i+1, im.Warnings())
			}
		}
	})
}

// A manager who leaves does not fail their reports (SPEC §2.2): a known row
// under them, skipped as unchanged, still applies, keeps its link and is
// counted in a warning naming the manager, on every sync whose rows still
// name them.
func TestKnownRowAppliesWhenItsManagerLeaves(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		log := e.logSkips()
		head := "external_id;first_name;last_name;country;preferred_language;business_email;manager;archived_at\n"
		boss := "E1;Ann;Boss;BE;nl;ann@example.com;;\n"
		report := "E2;Bob;Report;BE;nl;bob@example.com;E1;\n"
		other := "E3;Cy;Other;BE;nl;cy@example.com;;\n"
		warned := func(im *store.Import, want string) {
			t.Helper()
			if w := im.Warnings(); !slices.Contains(w, want) {
				t.Errorf("warnings %q; want %q", w, want)
			}
		}
		e.importFile(importer.ModeFull, head+boss+report+other)
		// The boss is missing from the next roster; the report's row is known.
		im := e.importFile(importer.ModeFull, head+report+other)
		if im.Failed != 0 || im.Archived != 1 || im.Unchanged != 2 || log.last(t) != "2" {
			t.Fatalf("boss missing: %+v, skipped %s\n%s", im.Counts, log.last(t), e.errorsCSV(im))
		}
		warned(im, `manager "E1" is not in this roster and this sync archives them; 1 row names them`)
		if u := e.user("E2"); u.Plain["manager"] != "E1" || u.Status != store.StatusActive {
			t.Errorf("E2 = %s, manager %q; want active under E1 still", u.Status, u.Plain["manager"])
		}
		// The same roster again: every row is known and nobody is missing,
		// but the report still has the archived boss as manager: the sync
		// says so again.
		im = e.importFile(importer.ModeFull, head+report+other)
		if im.Failed != 0 || im.Unchanged != 2 || log.last(t) != "2" {
			t.Fatalf("same roster again: %+v, skipped %s", im.Counts, log.last(t))
		}
		warned(im, `manager "E1" is archived; 1 row names them`)
		// The boss leaves by the file's archived_at: the known report row applies too.
		e.importFile(importer.ModeFull, head+boss+report+other)
		im = e.importFile(importer.ModeFull, head+strings.Replace(boss, ";;\n", ";;2026-01-01\n", 1)+report+other)
		if im.Failed != 0 || im.Unchanged != 2 || im.Archived != 1 || log.last(t) != "2" {
			t.Fatalf("boss archived by the file: %+v, skipped %s\n%s", im.Counts, log.last(t), e.errorsCSV(im))
		}
		warned(im, `manager "E1" is archived; 1 row names them`)
		// Once the report has another manager, no sync names the boss.
		im = e.importFile(importer.ModeFull, head+strings.Replace(boss, ";;\n", ";;2026-01-01\n", 1)+
			strings.Replace(report, ";E1;", ";E3;", 1)+other)
		if im.Failed != 0 || im.Updated != 1 || len(im.Warnings()) != 0 {
			t.Errorf("report moved to E3: %+v, warnings %q", im.Counts, im.Warnings())
		}
	})
}
