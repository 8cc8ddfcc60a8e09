package httpd_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// formulaUsers are users whose names a spreadsheet would run (OWASP CSV
// injection), as a file wrote them: a tab before a formula is trimmed as
// white space only.
const formulaUsers = "F1;\"\t=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\";+1+1;BE;nl;f1@example.com;@SUM(A1);;\n" +
	"F2;=cmd|' /C calc'!A0;-2+3;BE;nl;f2@example.com;Sales;;\n" +
	"+F3;@SUM(A1);Plain;BE;nl;f3@example.com;Sales;;\n"

// downloadCSV gets a CSV attachment and reads it (after its BOM) with
// encoding/csv, as a spreadsheet would split it.
func downloadCSV(t *testing.T, e *apiEnv, path string) [][]string {
	t.Helper()
	res := e.get(path)
	wantStatus(t, path, res, http.StatusOK)
	body, ok := strings.CutPrefix(string(res.body), "\ufeff")
	if !ok {
		t.Fatalf("%s does not start with a BOM", path)
	}
	cr := csv.NewReader(strings.NewReader(body))
	cr.Comma = ';'
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, body)
	}
	return rows
}

// noFormula fails when a cell of rows would start a formula.
func noFormula(t *testing.T, what string, rows [][]string) {
	t.Helper()
	for i, row := range rows {
		for _, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("%s row %d: cell %q would run as a formula: %q", what, i+1, c, row)
			}
		}
	}
}

// The lists meant to be opened — a held sync's archive list and an import's
// change list — neutralise each cell a spreadsheet would run (a leading
// apostrophe), from the API, on both databases; the values stored and the
// roster export stay exact.
func TestAPIListsNeutraliseFormulas(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		ctx := context.Background()
		created := e.importFile(seedRows(1, 20) + formulaUsers)

		rows := downloadCSV(t, e, "/api/v1/imports/"+created+"/changes.csv")
		noFormula(t, "changes.csv", rows)
		want := map[string][]string{
			"F1":   {"created", "F1", `'=HYPERLINK("http://evil.example","click")`, "'+1+1"},
			"F2":   {"created", "F2", `'=cmd|' /C calc'!A0`, "'-2+3"},
			"'+F3": {"created", "'+F3", "'@SUM(A1)", "Plain"},
		}
		seen := 0
		for _, row := range rows {
			if w, ok := want[row[1]]; ok {
				seen++
				if strings.Join(row[:4], "|") != strings.Join(w, "|") {
					t.Errorf("changes.csv row %q, want it to start %q", row, w)
				}
			}
		}
		if seen != len(want) {
			t.Errorf("changes.csv holds %d of the %d formula users:\n%q", seen, len(want), rows)
		}

		// A full sync of E1..E10 would archive E11..E20 and the F users:
		// held, with its archive list.
		im, err := e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorCLI,
			Mode: importer.ModeFull, FileName: "full.csv", File: strings.NewReader(seedRows(1, 10))})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID})
		if err != nil || out.Import.Status != store.ImportHeld {
			t.Fatalf("full sync = %v, %v; want held", out, err)
		}
		rows = downloadCSV(t, e, "/api/v1/imports/"+im.ID+"/archive.csv")
		noFormula(t, "archive.csv", rows)
		wantArchive := map[string]string{
			"F1":   `F1|'=HYPERLINK("http://evil.example","click")|'+1+1|f1@example.com`,
			"F2":   `F2|'=cmd|' /C calc'!A0|'-2+3|f2@example.com`,
			"'+F3": `'+F3|'@SUM(A1)|Plain|f3@example.com`,
		}
		seen = 0
		for _, row := range rows {
			if w, ok := wantArchive[row[0]]; ok {
				seen++
				if got := strings.Join(row, "|"); got != w {
					t.Errorf("archive.csv row %q, want %q", got, w)
				}
			}
		}
		if seen != len(wantArchive) || len(rows) != 1+10+len(wantArchive) {
			t.Errorf("archive.csv holds %d rows, %d of the formula users:\n%q", len(rows), seen, rows)
		}
		noFormula(t, "changes.csv of the held sync", downloadCSV(t, e, "/api/v1/imports/"+im.ID+"/changes.csv?kind=archived"))

		// The export is for re-import: exact values.
		res := e.get("/api/v1/users.csv")
		wantStatus(t, "users.csv", res, http.StatusOK)
		for _, v := range []string{`"=HYPERLINK(""http://evil.example"",""click"")"`, ";+1+1;", ";@SUM(A1);", "\n+F3;"} {
			if !strings.Contains(string(res.body), v) {
				t.Errorf("users.csv does not hold %s exactly:\n%s", v, res.body)
			}
		}
	})
}
