package importer_test

import (
	"context"
	"slices"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// User search ignores case and accents the same way on SQLite and
// PostgreSQL, takes % and _ literally, and sees every way a user is written:
// created by an import, changed by one, or stored before the search column
// existed.
func TestUserSearchFoldsAccentsAndEscapesWildcards(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		im := e.importFile(importer.ModePartial, header+
			"E1;Élise;Dupont;FR;fr;elise@example.com;;;\n"+
			"E2;Anna;Maxbeth;BE;nl;anna@example.com;;;\n"+
			"E3;Anna;Ma_beth;BE;nl;anna.m@example.com;;;\n"+
			"E4;Bo;Jansen;BE;nl;bo@example.com;;;\n")
		if im.Status != store.ImportSucceeded || im.Created != 4 {
			t.Fatalf("import = %s %+v %s", im.Status, im.Counts, e.errorsCSV(im))
		}
		search := func(q string) []string {
			t.Helper()
			users, err := store.UserList(ctx, db, store.UserListParams{OrgID: e.org.ID, Query: q})
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, u := range users {
				ids = append(ids, u.ExternalID)
			}
			return ids
		}
		for q, want := range map[string][]string{
			"élise": {"E1"}, "elise": {"E1"}, "ELISE": {"E1"}, "Élise": {"E1"}, "ÉLISE DUPONT": {"E1"},
			"a_b": {"E3"}, "%": {}, "ma%beth": {}, "anna": {"E2", "E3"}, "e4": {"E4"},
		} {
			if got := search(q); !slices.Equal(got, want) {
				t.Errorf("search %q found %v, want %v", q, got, want)
			}
		}

		// A sync that changes a name is searched by the new one.
		if im := e.importFile(importer.ModePartial, header+"E4;Björn;;;;;;;\n"); im.Status != store.ImportSucceeded || im.Updated != 1 {
			t.Fatalf("update import = %s %+v %s", im.Status, im.Counts, e.errorsCSV(im))
		}
		if got := search("bjorn"); !slices.Equal(got, []string{"E4"}) {
			t.Errorf("search \"bjorn\" after the rename found %v, want [E4]", got)
		}
		if got := search("bo jansen"); len(got) != 0 {
			t.Errorf("search \"bo jansen\" after the rename found %v, want nobody", got)
		}

		// A user stored before the search column existed (a database
		// migrated up to 00007 and not since: its search is empty, and
		// nothing marks it filled) is found once the migrations have run.
		// A later Migrate, with the mark set, does not look again.
		for _, q := range []string{`UPDATE users SET first_name = 'Zoë', search = NULL WHERE external_id = 'E2'`,
			`DELETE FROM store_backfills`} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if got := search("ZOE"); !slices.Equal(got, []string{"E2"}) {
			t.Errorf("search \"ZOE\" for a user stored before the search column found %v, want [E2]", got)
		}
		var marks int
		if err := db.GetContext(ctx, &marks, `SELECT COUNT(*) FROM store_backfills WHERE name = 'users_search'`); err != nil || marks != 1 {
			t.Errorf("after the fill, store_backfills has %d users_search mark(s) (%v), want 1", marks, err)
		}
	})
}
