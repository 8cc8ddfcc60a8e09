package importer_test

import (
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// A row reports all its own problems at once: the rules on the user as a
// whole (a contact, what a new user needs) judge a row that already failed a
// cell, so fixing what one errors CSV says makes the next upload pass. A
// rule that reads a failed cell stays silent: it would only guess.
func TestRowReportsAllItsProblemsAtOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if im := e.importFile(importer.ModePartial, header+"E3;Cy;Doe;BE;nl;cy@example.com;;;\n"); im.Status != store.ImportSucceeded {
			t.Fatalf("setup import = %s %s", im.Status, e.errorsCSV(im))
		}
		bad := header +
			"E1;Ann;Smith;Belgium;nl;;;;\n" + // new: bad country, no contact
			"E2;Bob;;Belgium;nl;bob@example;;;\n" + // new: bad country, bad e-mail, no last name
			"E3;;;Belgium;;;;;\n" // stored, with an e-mail: bad country only
		im := e.importFile(importer.ModePartial, bad)
		if im.Status != store.ImportCompletedWithErrors || im.Failed != 3 {
			t.Fatalf("import = %s %+v, want 3 failed rows", im.Status, im.Counts)
		}
		byID := map[string]string{}
		for _, line := range strings.Split(e.errorsCSV(im), "\n") {
			if id, _, ok := strings.Cut(line, ";"); ok {
				byID[id] = line
			}
		}
		for _, c := range []struct {
			id        string
			want, not []string
		}{
			{"E1", []string{"Belgium\"\" is not an ISO 3166-1", "would have no contact left"}, nil},
			{"E2", []string{"Belgium\"\" is not an ISO 3166-1", `bob@example`, "a new user needs a last name"},
				[]string{"no contact", "needs a country"}},
			{"E3", []string{"Belgium\"\" is not an ISO 3166-1"}, []string{"no contact", "is new"}},
		} {
			for _, w := range c.want {
				if !strings.Contains(byID[c.id], w) {
					t.Errorf("errors of %s lack %q:\n%s", c.id, w, byID[c.id])
				}
			}
			for _, n := range c.not {
				if strings.Contains(byID[c.id], n) {
					t.Errorf("errors of %s say %q, which only repeats or guesses at a failed cell:\n%s", c.id, n, byID[c.id])
				}
			}
		}

		// In a full roster a blank first name is the cell's own problem; the
		// "a new user needs a first name" rule would only say it again.
		full := e.importFile(importer.ModeFull, header+"E3;Cy;Doe;BE;nl;cy@example.com;;;\nE4;;Roe;BE;nl;;;;\n")
		if csv := e.errorsCSV(full); full.Failed != 1 || strings.Count(csv, "first_name") != 2 || strings.Contains(csv, "is new") ||
			!strings.Contains(csv, "cannot be blank in a full roster") || !strings.Contains(csv, "no contact left") {
			t.Errorf("full roster with a blank first name and no contact: %+v\n%s\nwant the blank cell and the contact, once each", full.Counts, csv)
		}

		fixed := header +
			"E1;Ann;Smith;BE;nl;ann@example.com;;;\n" +
			"E2;Bob;Jones;BE;nl;bob@example.com;;;\n" +
			"E3;;;BE;;;;;\n"
		if again := e.importFile(importer.ModePartial, fixed); again.Status != store.ImportSucceeded || again.Created != 2 {
			t.Errorf("the file fixed as its errors CSV said: %s %+v\n%s", again.Status, again.Counts, e.errorsCSV(again))
		}
	})
}
