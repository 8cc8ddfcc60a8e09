package importer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// A row whose fingerprint is known is not staged (issue 20 §1): the checks
// that used to find it in staging ask which line claimed which stored
// fingerprint instead. These tests are what a user would see go wrong if
// they asked wrongly.

// skippedEnv is an organisation whose threshold archives freely, with its
// first roster imported.
func skippedEnv(t *testing.T, db *store.DB, roster string, created int) *env {
	t.Helper()
	e := newEnv(t, db)
	e.org.ArchiveThresholdMin = 1000 // nothing here is about the threshold
	if err := store.OrgUpdate(context.Background(), db, e.org); err != nil {
		t.Fatal(err)
	}
	if im := e.importFile(importer.ModeFull, roster); im.Created != created || im.Failed != 0 {
		t.Fatalf("first roster: %s %+v\n%s", im.Status, im.Counts, e.errorsCSV(im))
	}
	return e
}

// statuses is each listed user's status, "-" for none.
func (e *env) statuses(ids ...string) string {
	e.t.Helper()
	var out []string
	for _, id := range ids {
		s := "-"
		if u := e.user(id); u != nil {
			s = u.Status
		}
		out = append(out, id+"="+s)
	}
	return strings.Join(out, " ")
}

// A full sync whose unchanged rows were skipped archives exactly the users
// the file leaves out, counts the skipped rows as unchanged, and keeps the
// user of a row that failed; the same with a row failing, whose counts are
// read back from staging.
func TestFullSyncWithSkippedRowsArchivesOnlyTheMissing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := skippedEnv(t, db, fullRoster(1, 8), 8)
		log := e.logSkips()
		lines := strings.SplitAfter(fullRoster(1, 8), "\n")
		// E5 changed, E7 and E8 left.
		file := strings.Join(slices.Concat(lines[:5], []string{"E5;First5;Married5;BE;nl;e5@example.com\n", lines[6]}), "")
		im := e.importFile(importer.ModeFull, file)
		if im.Status != store.ImportSucceeded || im.Rows != 6 || im.Updated != 1 || im.Unchanged != 5 || im.Archived != 2 || log.last(t) != "5" {
			t.Fatalf("sync = %s %+v, skipped %s; want 6 rows: 1 updated, 5 unchanged (skipped), 2 archived",
				im.Status, im.Counts, log.last(t))
		}
		want := "E1=active E2=active E3=active E4=active E5=active E6=active E7=archived E8=archived"
		if got := e.statuses("E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8"); got != want {
			t.Errorf("after the sync: %s\nwant %s", got, want)
		}
		changes := e.changeKinds(im.ID)
		if changes != "archived E7, archived E8, updated E5" {
			t.Errorf("journal: %s; want E5 updated, E7 and E8 archived, nobody skipped in it", changes)
		}

		// E6 leaves; E3's row fails (a bad e-mail), which keeps E3; the
		// skipped rows are counted from the rows read, not from staging.
		file = strings.Join(slices.Concat(lines[:3], []string{"E3;First3;Last3;BE;nl;not-an-address\n"},
			lines[4:5], []string{"E5;First5;Married5;BE;nl;e5@example.com\n"}), "")
		im = e.importFile(importer.ModeFull, file)
		if im.Status != store.ImportCompletedWithErrors || im.Rows != 5 || im.Failed != 1 || im.Unchanged != 4 || im.Archived != 1 || log.last(t) != "4" {
			t.Fatalf("sync with a failed row = %s %+v, skipped %s; want 5 rows: 1 failed, 4 unchanged, 1 archived",
				im.Status, im.Counts, log.last(t))
		}
		want = "E1=active E2=active E3=active E4=active E5=active E6=archived"
		if got := e.statuses("E1", "E2", "E3", "E4", "E5", "E6"); got != want {
			t.Errorf("after the sync with a failed row: %s\nwant %s", got, want)
		}
	})
}

// changeKinds lists an import's journal entries as "kind id", sorted.
func (e *env) changeKinds(importID string) string {
	e.t.Helper()
	changes, err := store.ChangeList(context.Background(), e.db, store.ChangeListParams{OrgID: e.org.ID, ImportID: importID, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, c := range changes {
		out = append(out, c.Kind+" "+c.ExternalID)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// An id that appears twice fails both rows, also when one of the two is an
// unchanged row that was skipped (before or after its twin, or repeated byte
// for byte), and the user is kept as stored.
func TestRepeatedIDOfASkippedRowFailsBothRows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := skippedEnv(t, db, fullRoster(1, 3), 3)
		log := e.logSkips()
		lines := strings.SplitAfter(fullRoster(1, 3), "\n")
		changedE2 := "E2;First2;Renamed2;BE;nl;e2@example.com\n"
		for _, c := range []struct {
			name, file string
			lines      string
			skipped    string
		}{
			{"the changed twin after the skipped row", lines[0] + lines[1] + lines[2] + lines[3] + changedE2, "3 and 5", "3"},
			{"the changed twin before the skipped row", lines[0] + lines[1] + changedE2 + lines[2] + lines[3], "3 and 4", "3"},
			{"the same row twice", lines[0] + lines[1] + lines[2] + lines[2] + lines[3], "3 and 4", "3"},
		} {
			t.Run(c.name, func(t *testing.T) {
				im := e.importFile(importer.ModeFull, c.file)
				if im.Status != store.ImportCompletedWithErrors || im.Rows != 4 || im.Failed != 2 || im.Unchanged != 2 ||
					im.Archived != 0 || log.last(t) != c.skipped {
					t.Fatalf("sync = %s %+v, skipped %s; want 2 failed, 2 unchanged, nobody archived", im.Status, im.Counts, log.last(t))
				}
				csv := e.errorsCSV(im)
				if n := strings.Count(csv, `""E2"" appears on lines `+c.lines+`; an id may appear once in a file`); n != 2 {
					t.Errorf("errors CSV names the repeated id on %d rows, want both (lines %s):\n%s", n, c.lines, csv)
				}
				if u := e.user("E2"); u.Status != store.StatusActive || u.Plain["last_name"] != "Last2" {
					t.Errorf("E2 = %s %q; want kept as stored", u.Status, u.Plain["last_name"])
				}
			})
		}
	})
}

// A row may name as manager a user whose own row was skipped as unchanged;
// the skipped reports of a manager the sync archives are still counted in
// its warning; and a changed row that would close a loop through skipped
// users' stored links still fails.
func TestManagersAndSkippedRows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const h = "external_id;first_name;last_name;country;preferred_language;business_email;manager\n"
		boss := "B1;Ann;Boss;BE;nl;b1@x.test;\n"
		var reports strings.Builder
		for i := range 3 {
			fmt.Fprintf(&reports, "R%d;Rep;%d;BE;nl;r%d@x.test;B1\n", i, i, i)
		}
		other := "X1;Xavier;Other;BE;nl;x1@x.test;\n"
		e := skippedEnv(t, db, h+boss+reports.String()+other, 5)
		log := e.logSkips()

		// B1 leaves; the reports' rows are unchanged (skipped); a new user
		// reports to R0, whose row was skipped.
		im := e.importFile(importer.ModeFull, h+reports.String()+other+"N1;New;One;BE;nl;n1@x.test;R0\n")
		if im.Status != store.ImportSucceeded || im.Created != 1 || im.Archived != 1 || im.Failed != 0 || log.last(t) != "4" {
			t.Fatalf("sync = %s %+v, skipped %s\n%s", im.Status, im.Counts, log.last(t), e.errorsCSV(im))
		}
		if u := e.user("N1"); u == nil || u.Plain["manager"] != "R0" {
			t.Errorf("N1 = %+v; want created under R0", u)
		}
		if w := `manager "B1" is not in this roster and this sync archives them; 3 rows name them`; !slices.Contains(im.Warnings(), w) {
			t.Errorf("warnings %q; want %q", im.Warnings(), w)
		}

		// The next sync: B1 is archived; the reports are skipped again and
		// still named in the warning, now as archived.
		im = e.importFile(importer.ModeFull, h+reports.String()+other+"N1;New;One;BE;nl;n1@x.test;R0\n")
		if im.Status != store.ImportSucceeded || im.Unchanged != 5 || log.last(t) != "5" {
			t.Fatalf("next sync = %s %+v, skipped %s", im.Status, im.Counts, log.last(t))
		}
		if w := `manager "B1" is archived; 3 rows name them`; !slices.Contains(im.Warnings(), w) {
			t.Errorf("warnings %q; want %q", im.Warnings(), w)
		}

		// A loop through a skipped user's stored link: R1 (skipped, under
		// B1) is named as manager by B1's restoring row.
		im = e.importFile(importer.ModeFull, h+"B1;Ann;Boss;BE;nl;b1@x.test;R1\n"+reports.String()+other+"N1;New;One;BE;nl;n1@x.test;R0\n")
		csv := e.errorsCSV(im)
		if im.Failed != 1 || log.last(t) != "5" ||
			!strings.Contains(csv, `""R1"" would make a loop of managers (B1 → R1 → B1)`) {
			t.Errorf("loop through a skipped row = %+v, skipped %s\n%s", im.Counts, log.last(t), csv)
		}
	})
}

// A user whose fingerprint a skipped row claimed, changed by another writer
// while the file was read (renamed, or archived from the back office), is
// not mistaken for a user the file leaves out: the import runs again, and
// then applies the file's row to them.
func TestSkippedUserChangedWhileReadingRunsAgain(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		change func(ctx context.Context, db *store.DB, orgID int64) error
		counts store.Counts
	}{
		{"renamed", func(ctx context.Context, db *store.DB, orgID int64) error {
			// What a writer other than a sync leaves: other fields (and
			// their hash), the fingerprint forgotten.
			_, err := db.ExecContext(ctx, db.Rebind(`UPDATE users SET last_name = ?, row_hash = ?, source_hash = NULL
				WHERE org_id = ? AND external_id = ?`), "Renamed", "changed elsewhere", orgID, "E2")
			return err
		}, store.Counts{Rows: 4, Updated: 1, Unchanged: 3, Archived: 1}},
		{"archived", func(ctx context.Context, db *store.DB, orgID int64) error {
			return store.UserArchive(ctx, db, orgID, "E2", time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
		}, store.Counts{Rows: 4, Restored: 1, Unchanged: 3, Archived: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				e := skippedEnv(t, db, fullRoster(1, 5), 5)
				file := fullRoster(1, 4) // E5 leaves
				f, err := store.FileCreate(ctx, db, e.org.ID, "roster.csv", strings.NewReader(file), 0)
				if err != nil {
					t.Fatal(err)
				}
				im := &store.Import{OrgID: e.org.ID, Door: store.DoorCLI, Mode: string(importer.ModeFull), FileName: "roster.csv",
					FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes}
				if err := store.ImportCreate(ctx, db, im); err != nil {
					t.Fatal(err)
				}
				// The other writer changes E2 once its row was skipped.
				changeE2 := func(_ context.Context, s importer.Step) {
					if s == importer.StepStaged {
						if err := c.change(ctx, db, e.org.ID); err != nil {
							t.Error(err)
						}
					}
				}
				_, err = importer.Run(ctx, db, importer.RunParams{Import: im, Limits: importer.DefaultLimits(), Now: e.now, Pause: changeE2})
				if !errors.Is(err, importer.ErrImportBusy) {
					t.Fatalf("run with E2 changed under it: %v; want ErrImportBusy (run again)", err)
				}
				if u := e.user("E5"); u.Status != store.StatusActive {
					t.Errorf("E5 is %s after the run that gave way; want nothing applied", u.Status)
				}
				out, err := importer.Run(ctx, db, importer.RunParams{Import: im, Limits: importer.DefaultLimits(), Now: e.now})
				if err != nil {
					t.Fatal(err)
				}
				if got := out.Import; got.Status != store.ImportSucceeded || got.Counts != c.counts {
					t.Errorf("run again = %s %+v; want %+v", got.Status, got.Counts, c.counts)
				}
				if got := e.statuses("E1", "E2", "E3", "E4", "E5"); got != "E1=active E2=active E3=active E4=active E5=archived" {
					t.Errorf("after the run again: %s", got)
				}
				if u := e.user("E2"); u.Plain["last_name"] != "Last2" {
					t.Errorf("E2's last name %q; want the file's, Last2", u.Plain["last_name"])
				}
			})
		})
	}
}
