package importer_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/roster"
	"rosterd/store"
	"rosterd/store/storetest"
)

// The first import of an organisation stages the rows that create a user
// as their plan rows at once (no user can be merged into); any later import
// plans them from their patches. Both must store the very same users:
// every field, the status, the three hashes and the search text.
func TestFirstImportStoresWhatALaterImportWould(t *testing.T) {
	t.Parallel()
	roster := "external_id;first_name;last_name;country;preferred_language;authentication_type;business_email;" +
		"business_mobile_phone;manager;department_en;department_nl;job_title_en;tags_en;archived_at\n" +
		"E1;Ann;Smith;be;nl;;Ann@Example.com;0470 12 34 56;;Sales;Verkoop;Boss;team:A,level:1;\n" +
		"E2;Bob;Jones;BE;fr-be;;bob@example.com;;E1;Sales;;Engineer;;\n" + // blank languages: planned by merge
		"E3;Cleo;Martin;FR;fr;username_password;cleo@example.com;+33 6 12 34 56 78;E2;IT;ICT;Dev;t:x;\n" +
		"E4;Dirk;Peeters;BE;nl;;dirk@example.com;;E1;Support;;;;2030-01-31\n" + // an archive date: planned by merge
		"E5;Eva;;BE;nl;;eva@example.com;;E1;S;V;J;t:x;\n" + // fails its own rules (no last name)
		"E6;Finn;Claes;Belgium;nl;;finn@example.com;;E9;S;V;J;t:x;\n" + // fails: country and manager
		"E7;Greet;Maes;BE;nl;;;+32 470 00 00 07;E3;S;V;J;t:x;\n" +
		"E7;Greet;Maes;BE;nl;;greet@example.com;;E3;S;V;J;t:x;\n" + // a repeated id: both rows fail
		"E8;Hans;Loop;BE;nl;;hans@example.com;;E10;S;V;J;t:x;\n" + // a loop of managers: both fail
		"E10;Ines;Loop;BE;nl;;ines@example.com;;E8;S;V;J;t:x;\n" +
		"E11;Jan;Under;BE;nl;;jan@example.com;;E5;S;V;J;t:x;\n" + // managed by a row that failed its own rules: fails
		"E12;Kim;Under;BE;nl;;kim@example.com;;E7;S;V;J;t:x;\n" + // managed by a row that failed a check across rows: fails
		"E13;Lea;Direct;BE;nl;username_password;lea@example.com;;E3;S;V;J;t:x;\n"
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		first := newEnv(t, db)
		later := &env{t: t, db: db, org: mustOrg(t, db, "later"), now: first.now}
		if im := later.importFile(importer.ModePartial, "external_id;first_name;last_name;country;preferred_language;business_email\n"+
			"X1;Xavier;Other;BE;nl;x1@example.com\n"); im.Created != 1 {
			t.Fatalf("seed: %s %+v %s", im.Status, im.Counts, im.Error)
		}
		a := first.importFile(importer.ModeFull, roster)
		b := later.importFile(importer.ModeFull, roster) // and archives X1
		if b.Archived != 1 {
			t.Errorf("the later import archived %d users; want X1", b.Archived)
		}
		b.Archived = 0
		if a.Counts != b.Counts || a.Status != b.Status || a.Created != 5 || a.Failed != 8 {
			t.Errorf("first import %s %+v; later import %s %+v; want the same, 5 created and 8 failed", a.Status, a.Counts, b.Status, b.Counts)
		}
		if ea, eb := first.errorsCSV(a), later.errorsCSV(b); ea != eb || ea == "" {
			t.Errorf("errors CSV of the first import:\n%s\nof the later one:\n%s", ea, eb)
		}
		got, want := storedUsers(t, db, first.org.ID), storedUsers(t, db, later.org.ID)
		want = slices.DeleteFunc(want, func(u string) bool { return strings.HasPrefix(u, "X1|") })
		if !slices.Equal(got, want) || len(got) != 5 {
			t.Errorf("the first import stored\n%s\nthe later one\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// mustOrg creates another organisation.
func mustOrg(t *testing.T, db *store.DB, slug string) *store.Org {
	t.Helper()
	org := store.NewOrg(slug, slug)
	org.DefaultPhoneRegion = "BE"
	if err := store.OrgCreate(context.Background(), db, &org); err != nil {
		t.Fatal(err)
	}
	return &org
}

// storedUsers renders every stored column of the organisation's users but
// the ids and times, one user a line, by external_id.
func storedUsers(t *testing.T, db *store.DB, orgID int64) []string {
	t.Helper()
	cols := append([]string{"external_id", "id_key"}, roster.PlainColumns()...)
	cols = append(cols, roster.LocalizedColumns()...)
	cols = append(cols, "status", "archived_at", "row_hash", "source_hash", "search")
	rows, err := db.QueryxContext(context.Background(), db.Rebind(`SELECT `+strings.Join(cols, ", ")+
		` FROM users WHERE org_id = ? ORDER BY external_id`), orgID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.SliceScan()
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts = append(parts, fmt.Sprint(v))
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
