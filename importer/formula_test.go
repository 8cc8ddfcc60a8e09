package importer_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"rosterd/csvfile"
	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// Cells that a spreadsheet would run as a formula are names like any other
// on import: a tab or a carriage return before them is trimmed as white
// space, never hiding the formula (the stored value starts with = + - @),
// and the roster export writes them exactly, with no apostrophe, so that it
// re-imports with every row unchanged (SPEC §5.1: only the lists meant to
// be read are neutralised).
func TestFormulaCellsImportAndExportExactly(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, _ := importertest.NewService(t, db, importer.ServiceConfig{})
		e := newEnv(t, db)
		im := e.importFile(importer.ModePartial, "external_id;first_name;last_name;country;preferred_language;business_email;department_en\n"+
			"E1;\"\t=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\";+1+1;BE;nl;e1@example.com;@SUM(A1)\n"+
			"E2;\"\r=cmd|' /C calc'!A0\";\t-2+3;BE;nl;e2@example.com;\"\r\n+1\"\n")
		if im.Status != store.ImportSucceeded || im.Created != 2 {
			t.Fatalf("import %s %+v %q\n%s", im.Status, im.Counts, im.Error, e.errorsCSV(im))
		}
		want := map[string][3]string{
			"E1": {`=HYPERLINK("http://evil.example","click")`, "+1+1", "@SUM(A1)"},
			"E2": {`=cmd|' /C calc'!A0`, "-2+3", "+1"},
		}
		for id, w := range want {
			u := e.user(id)
			if got := [3]string{u.Plain["first_name"], u.Plain["last_name"], u.Localized["department"]["en"]}; got != w {
				t.Errorf("%s stored as %q, want %q", id, got, w)
			}
		}

		var export bytes.Buffer
		if err := svc.UserExport(ctx, importer.UserExportParams{OrgID: e.org.ID}, &export); err != nil {
			t.Fatal(err)
		}
		cr, err := csvfile.NewCSVReader(bytes.NewReader(export.Bytes()), csvfile.ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, n := range cr.Header().Names {
			col[n] = i
		}
		for {
			rec, err := cr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			w := want[rec.Cells[0]]
			if got := [3]string{rec.Cells[col["first_name"]], rec.Cells[col["last_name"]], rec.Cells[col["department_en"]]}; got != w {
				t.Errorf("export of %s: %q, want exactly %q\n%s", rec.Cells[0], got, w, export.String())
			}
		}
		if strings.Contains(export.String(), "'=") || strings.Contains(export.String(), "'+") {
			t.Errorf("the export neutralised a cell; it must re-import exactly:\n%s", export.String())
		}

		users := e.allUsers()
		again := e.importFile(importer.ModeFull, export.String())
		if again.Status != store.ImportSucceeded || again.Counts != (store.Counts{Rows: 2, Unchanged: 2}) {
			t.Errorf("the export re-imported: %s %+v %q, want 2 rows unchanged\n%s", again.Status, again.Counts, again.Error, e.errorsCSV(again))
		}
		if after := e.allUsers(); after != users {
			t.Errorf("the re-imported export changed users:\n%s\nwant:\n%s", after, users)
		}
	})
}
