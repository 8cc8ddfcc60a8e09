package main_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

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
