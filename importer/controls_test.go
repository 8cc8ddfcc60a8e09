package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// A name holding a right-to-left override, or a line break inside its
// quoted cell, fails its row with a message naming the line, the column as
// the file wrote it and the value escaped; the other rows apply.
func TestControlsInNamesFailTheRow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		im := e.importFile(importer.ModePartial, "External ID;First Name;last_name;country;preferred_language;business_email\n"+
			"E1;Ann\u202Eeman;Smith;BE;nl;e1@example.com\n"+
			"E2;\"Bob\r\nFake: line\";Jones;BE;nl;e2@example.com\n"+
			"E3;Cy;Wu;BE;nl;e3@example.com\n")
		if im.Status != store.ImportCompletedWithErrors || im.Created != 1 || im.Failed != 2 {
			t.Fatalf("import %s %+v %q", im.Status, im.Counts, im.Error)
		}
		list, err := store.ChangeList(context.Background(), db, store.ChangeListParams{OrgID: e.org.ID, ImportID: im.ID,
			Kind: store.ChangeFailed, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range list {
			got = append(got, fmt.Sprintf("line %d: %s", c.Line, strings.Join(c.Messages(), " | ")))
		}
		want := []string{
			`line 2: First Name: "Ann\u202eeman" contains U+202E (a right-to-left override), an invisible character that makes text display in another order than it is written; write the text without it`,
			`line 3: First Name: "Bob\nFake: line" contains a control character (a tab or a line break); write it on one line, without them`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("failed rows:\n%s\nwant\n%s\nerrors CSV:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), e.errorsCSV(im))
		}
		if e.user("E1") != nil || e.user("E2") != nil || e.user("E3") == nil {
			t.Errorf("E1 %v, E2 %v stored; E3 %v", e.user("E1"), e.user("E2"), e.user("E3"))
		}
	})
}
