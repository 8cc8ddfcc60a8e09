package importer_test

import (
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
			// archived, and E2 may not take 4512 as manager. 4513 is new and
			// looks like stored 004513: it fails, and 004513 is kept (E1 may
			// take them as manager).
			im := e.importFile(importer.ModeFull, h+"E1;Ann;One;BE;nl;e1@x.test;004513\nE2;Bob;Two;BE;nl;e2@x.test;4512\n"+
				"004512;Four;Long;BE;nl;long@x.test;\n4513;Zoe;Zeros;BE;nl;zoe@x.test;\n")
			if im.Status != store.ImportCompletedWithErrors || im.Archived != 1 || im.Failed != 2 || im.Updated != 1 || im.Unchanged != 1 {
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
			if m := e.user("E2").Plain["manager"]; m != "E1" {
				t.Errorf("E2's manager became %q; 4512 leaves with this sync", m)
			}
			csv := e.errorsCSV(im)
			for _, want := range []string{`""4512"" is not a user the manager can be`, `""4513"" looks like ""004513"" with its leading zeros lost`} {
				if !strings.Contains(csv, want) {
					t.Errorf("errors CSV lacks %q:\n%s", want, csv)
				}
			}
		})

		t.Run("a stored id with fewer zeros does not keep the longer one", func(t *testing.T) {
			// 4512 is stored (archived): the row restores it and names only it.
			im := e.importFile(importer.ModeFull, h+"E1;Ann;One;BE;nl;e1@x.test;\nE2;Bob;Two;BE;nl;e2@x.test;E1\n"+
				"4512;Four;Short;BE;nl;short@x.test;\n004513;Zoe;Zeros;BE;nl;zoe@x.test;\n")
			if im.Status != store.ImportSucceeded || im.Restored != 1 || im.Archived != 1 || im.Updated != 1 || im.Failed != 0 {
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
