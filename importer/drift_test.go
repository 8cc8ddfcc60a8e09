package importer_test

import (
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// TestHeaderDrift: a full sync whose header lost a column the last applied
// full sync had is warned, naming the column and that its values are kept;
// a new column is named too. Dry runs and partial imports are never "the
// last sync"; a partial import is not warned.
func TestHeaderDrift(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		drift := func(im *store.Import) string {
			var w []string
			for _, s := range im.Warnings() {
				if strings.HasPrefix(s, "column `") {
					w = append(w, s)
				}
			}
			return strings.Join(w, "\n")
		}
		first := e.importFile(importer.ModeFull, "external_id;first_name;last_name;country;preferred_language;business_mobile_phone;department_en;Shoe Size\n"+
			"E1;Ann;Smith;BE;nl;0470 12 34 56;Sales;38\n"+
			"E2;Bob;Jones;BE;nl;0470 12 34 57;Sales;44\n")
		if first.Status != store.ImportSucceeded || drift(first) != "" {
			t.Fatalf("first sync = %s %+v, drift warnings %q", first.Status, first.Counts, drift(first))
		}
		dry := e.importFile(importer.ModeFull, "external_id;first_name;last_name;country;preferred_language;business_mobile_phone\n"+
			"E1;Ann;Smith;BE;nl;0470 12 34 56\n"+
			"E2;Bob;Jones;BE;nl;0470 12 34 57\n", func(im *store.Import) { im.DryRun = true })
		if want := "column `department_en`, present in the last sync (" + first.ID + "), is missing: its values are kept"; drift(dry) != want {
			t.Errorf("dry run's drift warnings = %q, want %q", drift(dry), want)
		}
		second := e.importFile(importer.ModeFull, "External ID;First Name;Last Name;Country;Preferred Language;Department EN;department_nl\n"+
			"E1;Ann;Smith;BE;nl;Sales;Verkoop\n"+
			"E2;Bob;Jones;BE;nl;Sales;Verkoop\n")
		want := "column `business_mobile_phone`, present in the last sync (" + first.ID + "), is missing: its values are kept\n" +
			"column `department_nl` is new: the last sync (" + first.ID + ") did not have it"
		if second.Status != store.ImportSucceeded || drift(second) != want {
			t.Errorf("second sync = %s, drift warnings\n%s\nwant\n%s", second.Status, drift(second), want)
		}
		if u := e.user("E1"); u.Plain["business_mobile_phone"] != "+32470123456" {
			t.Errorf("E1's phone = %q, want it kept", u.Plain["business_mobile_phone"])
		}
		partial := e.importFile(importer.ModePartial, "external_id;first_name\nE1;Anne\n")
		if drift(partial) != "" {
			t.Errorf("a partial import is warned of drift: %q", drift(partial))
		}
		third := e.importFile(importer.ModeFull, "external_id;first_name;last_name;country;preferred_language;department_en;department_nl\n"+
			"E1;Anne;Smith;BE;nl;Sales;Verkoop\n"+
			"E2;Bob;Jones;BE;nl;Sales;Verkoop\n")
		if third.Status != store.ImportSucceeded || drift(third) != "" {
			t.Errorf("third sync (the second's header, spelt otherwise) = %s, drift warnings %q; want none", third.Status, drift(third))
		}
	})
}
