package main_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"rosterd/layers/layerstest"
	"rosterd/store"
	"rosterd/xlsxfile/xlsxtest"
)

// rowsOf reads a workbook file of the CLI's directory as a person sees it.
func rowsOf(t *testing.T, c *cli, name string) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(strings.NewReader(c.read(name)))
	if err != nil {
		t.Fatalf("%s is not a workbook: %v", name, err)
	}
	defer f.Close()
	rows, err := f.GetRows("users")
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// --errors-out FILE.xlsx writes a workbook upload's errors workbook, which
// re-imports as it is with the same errors; FILE.csv still gets the errors
// CSV of the same import.
func TestErrorsWorkbookOut(t *testing.T) {
	t.Parallel()
	book := xlsxtest.Book(t, "", [][]any{
		{"external_id", "first_name", "last_name", "country", "preferred_language", "business_email"},
		{"E1", "Ann", "Smith", "BE", "nl", "ann@example.com"},
		{"0042", "Bob", "Jones", "Belgium", "nl", "bob@example.com"},
	})
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		in := c.write("roster.xlsx", string(book))
		out, errOut, code := c.run("", "import", "--org", "acme", "--json", "--errors-out", "fix-me.xlsx", in)
		if code != 3 {
			t.Fatalf("import: exit %d, want 3\n%s%s", code, out, errOut)
		}
		first := rowsOf(t, c, "fix-me.xlsx")
		if len(first) != 2 || strings.Join(first[1][:6], ";") != "0042;Bob;Jones;Belgium;nl;bob@example.com" || !strings.HasPrefix(first[1][6], "country:") {
			t.Fatalf("fix-me.xlsx = %q", first)
		}
		id := decodeImport(t, out).ID
		c.ok("import", "show", id, "--errors-out", "fix-me.csv")
		if csv := c.read("fix-me.csv"); !strings.Contains(csv, "0042;Bob;Jones;Belgium;nl;bob@example.com;") {
			t.Errorf("fix-me.csv =\n%s", csv)
		}

		_, errOut, code = c.run("", "import", "--org", "acme", "--errors-out", "again.xlsx", filepath.Join(c.dir, "fix-me.xlsx"))
		if again := rowsOf(t, c, "again.xlsx"); code != 3 || strings.Join(again[1], "|") != strings.Join(first[1], "|") {
			t.Fatalf("re-import as is: exit %d (%s), errors %q; want the same as %q", code, errOut, again, first)
		}
	})
}

// --errors-out FILE.xlsx of a roster the import reads as a CSV is refused
// before anything is recorded or applied, whatever layers wrap the CSV
// (peeled as the import peels them, PGP with the organisation's key); a
// workbook under the same layers is imported and gets its errors workbook.
// import approve of a held CSV sync refuses it before applying too.
func TestErrorsWorkbookOutOfACSVRefusedBeforeImport(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme", "--archive-threshold-percent", "10", "--archive-threshold-min", "1")
		g := layerstest.NewGPG(t)
		g.Import(c.ok("pgp-key", "create", "--org", "acme"))
		const orgUID = "rosters+acme@rosterd.invalid"
		gz := func(b []byte) []byte {
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			w.Write(b)
			w.Close()
			return buf.Bytes()
		}
		imports := func() int {
			var list []importJSON
			if err := json.Unmarshal([]byte(c.ok("import", "list", "--org", "acme", "--json")), &list); err != nil {
				t.Fatal(err)
			}
			return len(list)
		}

		for _, tc := range []struct{ name, file, what string }{
			{"roster.csv", badRoster, "roster.csv is a CSV: "},
			{"roster.csv.gz", string(gz([]byte(badRoster))), "roster.csv.gz is a CSV inside gzip: "},
			{"roster.csv.gz.pgp", string(g.Encrypt(gz([]byte(badRoster)), orgUID, "", false)), "roster.csv.gz.pgp is a CSV inside PGP and gzip: "},
			// The name says workbook; the file is a CSV, and the import reads it as one.
			{"named.xlsx.pgp", string(g.Encrypt([]byte(badRoster), orgUID, "", true)), "named.xlsx.pgp is a CSV inside PGP: "},
		} {
			out, errOut, code := c.run("", "import", "--org", "acme", "--errors-out", "fix-me.xlsx", c.write(tc.name, tc.file))
			want := "rosterd: --errors-out fix-me.xlsx: an errors workbook is written for a workbook upload only; " + tc.what + "use --errors-out FILE.csv\n"
			if code != 1 || out != "" || errOut != want {
				t.Errorf("%s: exit %d\nstdout %q\nstderr %q\nwant exit 1, stderr %q", tc.name, code, out, errOut, want)
			}
		}
		if n := imports(); n != 0 {
			t.Fatalf("%d imports recorded after the refusals, want none", n)
		}
		if _, err := os.Stat(filepath.Join(c.dir, "fix-me.xlsx")); !os.IsNotExist(err) {
			t.Errorf("fix-me.xlsx: %v, want none", err)
		}

		// The same layers around a workbook: imported, its errors workbook written.
		book := xlsxtest.Book(t, "", [][]any{
			{"external_id", "first_name", "last_name", "country", "preferred_language", "business_email"},
			{"E1", "Ann", "Smith", "BE", "nl", "ann@example.com"},
			{"0042", "Bob", "Jones", "Belgium", "nl", "bob@example.com"},
		})
		out, errOut, code := c.run("", "import", "--org", "acme", "--errors-out", "fix-me.xlsx",
			c.write("roster.xlsx.gz.pgp", string(g.Encrypt(gz(book), orgUID, "", false))))
		if rows := rowsOf(t, c, "fix-me.xlsx"); code != 3 || len(rows) != 2 || rows[1][0] != "0042" {
			t.Fatalf("roster.xlsx.gz.pgp: exit %d, errors workbook %q\n%s%s", code, rows, out, errOut)
		}

		// A held CSV sync: approve --errors-out FILE.xlsx is refused and
		// it stays held; approved without it, it applies.
		held, code := holdSync(t, c, "H")
		if code != 4 {
			t.Fatalf("full sync of 7 of 10: exit %d %+v, want held", code, held)
		}
		out, errOut, code = c.run("", "import", "approve", held.ID, "--errors-out", "held.xlsx")
		if want := "seven.csv is a CSV: use --errors-out FILE.csv"; code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("approve --errors-out held.xlsx: exit %d\n%s%s\nwant exit 1 and %q", code, out, errOut, want)
		}
		if im := decodeImport(t, c.ok("import", "show", held.ID, "--json")); im.Status != "held" {
			t.Errorf("after the refused approval: %+v, want held", im)
		}
		c.ok("import", "approve", held.ID, "--errors-out", "held.csv")
	})
}

// --errors-out with --detach is refused before anything is recorded: the
// detached import ends in the daemon, after the command, and the flag would
// otherwise be dropped without a word.
func TestDetachedErrorsOutRefused(t *testing.T) {
	t.Parallel()
	c := newCLI(t, store.SQLite)
	c.ok("org", "create", "acme", "--name", "Acme")
	roster := c.write("roster.csv", badRoster)
	for _, args := range [][]string{
		{"import", "--org", "acme", "--detach", "--errors-out", "fix-me.csv", roster},
		{"sync", "run", "--org", "acme", "--detach", "--errors-out", "fix-me.csv"},
		{"import", "approve", "imp_none", "--detach", "--errors-out", "fix-me.csv"},
	} {
		out, errOut, code := c.run("", args...)
		want := "rosterd: --errors-out fix-me.csv with --detach: a detached import ends in the daemon, after this command; " +
			"drop --detach to wait for it here, or once it has ended write its errors file with: rosterd import show ID --errors-out fix-me.csv\n"
		if code != 1 || out != "" || errOut != want {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %q\nwant exit 1, stderr %q", args, code, out, errOut, want)
		}
	}
	if list := c.ok("import", "list", "--org", "acme", "--json"); strings.TrimSpace(list) != "[]" {
		t.Errorf("imports after the refusals: %s, want none", list)
	}
}

// sync run --errors-out FILE.xlsx asks what the roster it takes from /in/
// reads as, inside the transaction that takes it: a CSV roster is refused
// with /in/ as it was and nothing recorded; a workbook roster is imported
// and its errors workbook written.
func TestSyncRunErrorsWorkbookOfACSVRefusedBeforeTaking(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		db := c.db()
		at := time.Date(2026, 5, 4, 20, 0, 0, 0, time.UTC)
		putInbox(t, db, "acme", "roster.csv", badRoster, at)
		out, errOut, code := c.run("", "sync", "run", "--org", "acme", "--errors-out", "fix-me.xlsx")
		want := "rosterd: --errors-out fix-me.xlsx: an errors workbook is written for a workbook upload only; roster.csv is a CSV: use --errors-out FILE.csv\n"
		if code != 1 || out != "" || errOut != want {
			t.Errorf("sync run of a CSV roster: exit %d\nstdout %q\nstderr %q\nwant exit 1, stderr %q", code, out, errOut, want)
		}
		files, err := store.InboxList(context.Background(), db, mustOrg(t, db, "acme"))
		if err != nil || len(files) != 1 || files[0].Name != "roster.csv" {
			t.Errorf("/in/ after the refusal = %v, %v; want roster.csv still there", files, err)
		}
		if list := c.ok("import", "list", "--org", "acme", "--json"); strings.TrimSpace(list) != "[]" {
			t.Errorf("imports after the refusal: %s, want none", list)
		}

		// A newer workbook roster: taken (the CSV superseded), imported, its
		// errors workbook written.
		book := xlsxtest.Book(t, "", [][]any{
			{"external_id", "first_name", "last_name", "country", "preferred_language", "business_email"},
			{"E1", "Ann", "Smith", "BE", "nl", "ann@example.com"},
			{"0042", "Bob", "Jones", "Belgium", "nl", "bob@example.com"},
		})
		putInbox(t, db, "acme", "roster.xlsx", string(book), at.Add(time.Hour))
		out, errOut, code = c.run("", "sync", "run", "--org", "acme", "--errors-out", "fix-me.xlsx")
		if rows := rowsOf(t, c, "fix-me.xlsx"); code != 3 || len(rows) != 2 || rows[1][0] != "0042" {
			t.Fatalf("sync run of a workbook roster: exit %d, errors workbook %q\n%s%s", code, rows, out, errOut)
		}
	})
}
