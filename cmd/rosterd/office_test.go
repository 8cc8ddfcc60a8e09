package main_test

import (
	"path/filepath"
	"testing"

	"rosterd/csvfile/officetest"
)

// `rosterd users export` writes UTF-8 with a BOM (SPEC §5.1): opened in
// LibreOffice (as in Excel) the accented names read as written, and the file
// still re-imports as it is as a full roster, every row unchanged.
func TestCLIExportOpensInASpreadsheet(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		c.ok("import", "--org", "acme", c.write("roster.csv", "external_id;first_name;last_name;country;preferred_language;business_email\n"+
			"E1;José;Müller;BE;fr;jose@example.com\nE2;Zoë;Ødegård;NO;nb;zoe@example.com\n"))
		export := c.ok("users", "export", "--org", "acme")
		rows := officetest.OpenCSV(t, []byte(export))
		if len(rows) != 3 || rows[0][0] != "external_id" {
			t.Fatalf("export in LibreOffice = %q", rows)
		}
		for _, want := range [][]string{{"E1", "José", "Müller"}, {"E2", "Zoë", "Ødegård"}} {
			if r := officetest.Find(rows, want[0]); r == nil || r[1] != want[1] || r[2] != want[2] {
				t.Errorf("export in LibreOffice: row %s = %q, want %q", want[0], r, want)
			}
		}
		c.write("export.csv", export)
		if im := decodeImport(t, c.ok("import", "--org", "acme", "--mode", "full", "--json", filepath.Join(c.dir, "export.csv"))); im.Status != "succeeded" || im.Counts["unchanged"] != 2 || im.Counts["rows"] != 2 {
			t.Errorf("re-import of the export = %+v", im)
		}
	})
}
