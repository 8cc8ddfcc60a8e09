package importer_test

import (
	"fmt"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// A full sync whose file holds UTF-8 names and, past the first 64 KiB the
// reader sniffs, a byte that is not UTF-8 (a row pasted from a Windows-1252
// file) fails, naming both lines, and changes nobody: read as Windows-1252
// it would have rewritten every accented name ("José" as "JosÃ©"). A UTF-8
// byte-order mark followed by such a byte fails the same way.
func TestMixedEncodingsFailTheImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		var b strings.Builder
		b.WriteString(header)
		b.WriteString("E1;José;Müller;BE;nl;jose@example.com;;;Sales\n")
		n := 1
		for b.Len() < 70<<10 {
			n++
			fmt.Fprintf(&b, "E%d;Zoë;Faç;BE;nl;u%d@example.com;;;Sales\n", n, n)
		}
		first := e.importFile(importer.ModeFull, b.String())
		if first.Status != store.ImportSucceeded || first.Created != n {
			t.Fatalf("first import %s %+v %q", first.Status, first.Counts, first.Error)
		}

		// The same people, one department changed, one person added, and
		// one row in Windows-1252 after the sniffed window: line n+2.
		mixed := strings.Replace(b.String(), ";Sales\n", ";Support\n", 1) +
			"E9999;Andr\xe9;Dupont;FR;fr;andre@example.com;;;Sales\n"
		im := e.importFile(importer.ModeFull, mixed)
		want := fmt.Sprintf(`line %d: byte 0xE9 is not UTF-8, but line 2 holds UTF-8 text ("é"): the file mixes encodings; save the whole file as CSV UTF-8 and upload it again`, n+2)
		if im.Status != store.ImportFailed || im.Error != want {
			t.Fatalf("import %s %q; want failed with %q", im.Status, im.Error, want)
		}
		if im.Counts != (store.Counts{}) {
			t.Errorf("a failed import counts %+v, want none", im.Counts)
		}
		if u := e.user("E1"); u.Plain["first_name"] != "José" || u.Localized["department"]["en"] != "Sales" {
			t.Errorf("E1 = %q %q after the failed import, want José, Sales", u.Plain["first_name"], u.Localized["department"]["en"])
		}
		if e.user("E9999") != nil {
			t.Errorf("E9999 was created by a failed import")
		}

		bom := e.importFile(importer.ModePartial, "\xEF\xBB\xBF"+header+
			"E1;José;Müller;BE;nl;jose@example.com;;;Support\n"+
			"E2;Zo\xeb;Fa\xe7;BE;nl;u2@example.com;;;Support\n")
		want = "line 3: byte 0xEB is not UTF-8, but the file starts with a UTF-8 byte-order mark; save the whole file as CSV UTF-8 and upload it again"
		if bom.Status != store.ImportFailed || bom.Error != want {
			t.Fatalf("import %s %q; want failed with %q", bom.Status, bom.Error, want)
		}
		for id, name := range map[string]string{"E1": "José", "E2": "Zoë"} {
			if u := e.user(id); u.Plain["first_name"] != name || u.Localized["department"]["en"] != "Sales" {
				t.Errorf("%s = %q %q after the failed import, want %s, Sales", id, u.Plain["first_name"], u.Localized["department"]["en"], name)
			}
		}
	})
}
