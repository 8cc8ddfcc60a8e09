package importer_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// Stored users 4512 and 004512 are two people (SPEC §2.2): a full roster
// that names one of them archives the other. Only a new id that is a stored
// one with its leading zeros lost keeps the stored user it looks like.
func TestFullSyncLeadingZerosShieldOnlyNewRows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const h = "external_id;first_name;last_name;country;preferred_language;business_email;manager\n"
		seed := h + "E1;Ann;One;BE;nl;e1@x.test;\nE2;Bob;Two;BE;nl;e2@x.test;E1\n" +
			"4512;Four;Short;BE;nl;short@x.test;\n004513;Zoe;Zeros;BE;nl;zoe@x.test;\n"
		if im := e.importFile(importer.ModePartial, seed); im.Created != 4 || im.Failed != 0 {
			t.Fatalf("seed: %+v\n%s", im.Counts, e.errorsCSV(im))
		}
		// More leading zeros than a stored id: a new user, not a lookalike.
		if im := e.importFile(importer.ModePartial, h+"004512;Four;Long;BE;nl;long@x.test;\n"); im.Created != 1 || im.Failed != 0 {
			t.Fatalf("create 004512 next to 4512: %+v\n%s", im.Counts, e.errorsCSV(im))
		}

		t.Run("a stored id does not keep the user whose id it equals without zeros", func(t *testing.T) {
			// 004512 is stored: it names only itself, so 4512 is missing and
			// archived; E2 may still take 4512 as manager, a manager who
			// leaves with this sync, and the import says so. 4513 is new and
			// looks like stored 004513: it fails, and 004513 is kept (E1 may
			// take them as manager).
			im := e.importFile(importer.ModeFull, h+"E1;Ann;One;BE;nl;e1@x.test;004513\nE2;Bob;Two;BE;nl;e2@x.test;4512\n"+
				"004512;Four;Long;BE;nl;long@x.test;\n4513;Zoe;Zeros;BE;nl;zoe@x.test;\n")
			if im.Status != store.ImportCompletedWithErrors || im.Archived != 1 || im.Failed != 1 || im.Updated != 2 || im.Unchanged != 1 {
				t.Errorf("sync = %s %+v\n%s", im.Status, im.Counts, e.errorsCSV(im))
			}
			if u := e.user("4512"); u.Status != store.StatusArchived {
				t.Errorf("4512 is %s; the roster names only 004512, another person", u.Status)
			}
			for id, want := range map[string]string{"004512": store.StatusActive, "004513": store.StatusActive, "E2": store.StatusActive} {
				if u := e.user(id); u.Status != want {
					t.Errorf("%s is %s, want %s", id, u.Status, want)
				}
			}
			if m := e.user("E1").Plain["manager"]; m != "004513" {
				t.Errorf("E1's manager is %q, want 004513, kept by the lookalike row", m)
			}
			if m := e.user("E2").Plain["manager"]; m != "4512" {
				t.Errorf("E2's manager is %q, want 4512, who leaves with this sync", m)
			}
			if csv := e.errorsCSV(im); !strings.Contains(csv, `""4513"" looks like ""004513"" with its leading zeros lost`) || strings.Contains(csv, "E2;") {
				t.Errorf("errors CSV: want 4513's row as a lookalike and E2's not at all:\n%s", csv)
			}
			if w := strings.Join(im.Warnings(), "\n"); !strings.Contains(w, `manager "4512" is not in this roster and this sync archives them; 1 row names them`) {
				t.Errorf("warnings %q; want the manager who leaves named", im.Warnings())
			}
		})

		t.Run("a stored id with fewer zeros does not keep the longer one", func(t *testing.T) {
			// 4512 is stored (archived): the row restores it and names only it.
			im := e.importFile(importer.ModeFull, h+"E1;Ann;One;BE;nl;e1@x.test;\nE2;Bob;Two;BE;nl;e2@x.test;E1\n"+
				"4512;Four;Short;BE;nl;short@x.test;\n004513;Zoe;Zeros;BE;nl;zoe@x.test;\n")
			if im.Status != store.ImportSucceeded || im.Restored != 1 || im.Archived != 1 || im.Updated != 2 || im.Failed != 0 {
				t.Errorf("sync = %s %+v\n%s", im.Status, im.Counts, e.errorsCSV(im))
			}
			if u := e.user("004512"); u.Status != store.StatusArchived {
				t.Errorf("004512 is %s; the roster names only 4512, another person", u.Status)
			}
			if u := e.user("4512"); u.Status != store.StatusActive {
				t.Errorf("4512 is %s, want restored", u.Status)
			}
		})
	})
}

// A manager who leaves keeps their reports (SPEC §2.2, issue 17): a full
// roster that drops a manager applies every report's row with its link,
// and every import whose rows name them says who and how many; a manager
// who never existed, or a new one whose own row failed, still fails the row.
func TestManagerWhoLeavesKeepsTheirReports(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.org.ArchiveThresholdMin = 100 // the roster is small; nothing here is about the threshold
		if err := store.OrgUpdate(context.Background(), db, e.org); err != nil {
			t.Fatal(err)
		}
		const h = "external_id;first_name;last_name;country;preferred_language;business_email;manager\n"
		boss := "B000100;Ann;Boss;BE;nl;boss@x.test;\n"
		var reports strings.Builder
		for i := range 30 {
			fmt.Fprintf(&reports, "R%02d;Rep;%d;BE;nl;r%d@x.test;B000100\n", i, i, i)
		}
		if im := e.importFile(importer.ModeFull, h+boss+reports.String()); im.Created != 31 || im.Failed != 0 {
			t.Fatalf("first roster: %+v\n%s", im.Counts, e.errorsCSV(im))
		}

		im := e.importFile(importer.ModeFull, h+reports.String())
		if im.Status != store.ImportSucceeded || im.Archived != 1 || im.Unchanged != 30 || im.Failed != 0 {
			t.Fatalf("roster without the manager: %s %+v\n%s", im.Status, im.Counts, e.errorsCSV(im))
		}
		want := `manager "B000100" is not in this roster and this sync archives them; 30 rows name them`
		if !slices.Contains(im.Warnings(), want) {
			t.Errorf("warnings %q; want %q", im.Warnings(), want)
		}
		if u := e.user("R07"); u.Status != store.StatusActive || u.Plain["manager"] != "B000100" {
			t.Errorf("R07 = %s under %q; want active, under B000100 still", u.Status, u.Plain["manager"])
		}
		// The next sync, one report changed: still named, now as archived.
		changed := strings.Replace(reports.String(), "R03;Rep;3;", "R03;Rep;Three;", 1)
		im = e.importFile(importer.ModeFull, h+changed)
		if im.Updated != 1 || im.Unchanged != 29 || im.Failed != 0 ||
			!slices.Contains(im.Warnings(), `manager "B000100" is archived; 30 rows name them`) {
			t.Errorf("next sync: %+v warnings %q\n%s", im.Counts, im.Warnings(), e.errorsCSV(im))
		}

		// A back-office upload: a new report under the archived manager
		// applies; a manager who never existed, and one whose own new row
		// failed, fail the rows that name them, saying why.
		im = e.importFile(importer.ModePartial, h+
			"N1;New;One;BE;nl;n1@x.test;B000100\n"+ // 2
			"N2;New;Two;BE;nl;n2@x.test;NOBODY\n"+ // 3
			"N3;New;Three;BE;nl;n3@x.test;E2003\n"+ // 4
			"E2003;New;Boss;BE;nl;not-an-address;\n") // 5
		csv := e.errorsCSV(im)
		if im.Created != 1 || im.Failed != 3 || e.user("N1") == nil ||
			!strings.Contains(csv, `N2;New;Two;BE;nl;n2@x.test;NOBODY;"manager: ""NOBODY"" is not a user the manager can be: no row of this file and no user of the organisation has that external_id`) ||
			!strings.Contains(csv, `N3;New;Three;BE;nl;n3@x.test;E2003;"manager: ""E2003"" is on line 5, which failed`) {
			t.Errorf("upload: %+v\n%s", im.Counts, csv)
		}
		if w := `manager "B000100" is archived; 1 row names them`; !slices.Contains(im.Warnings(), w) {
			t.Errorf("upload warnings %q; want %q", im.Warnings(), w)
		}
	})
}
