package httpd_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
	"rosterd/xlsxfile/xlsxtest"
)

// An .xlsx upload's errors file: the import JSON links errors.xlsx beside
// errors.csv, the API serves it as the attachment <id>.xlsx (a workbook a
// spreadsheet opens, the failed row's cells as sent, kept out of caches),
// and the import page offers both downloads. A CSV upload has no errors
// workbook: null, 404 and no link. Another organisation gets 404.
func TestErrorsWorkbookDownloads(t *testing.T) {
	t.Parallel()
	book := xlsxtest.Book(t, "", [][]any{
		{"external_id", "first_name", "last_name", "country", "preferred_language", "business_email"},
		{"E1", "Ann", "Smith", "BE", "nl", "ann@example.com"},
		{"007", "Bob", "Jones", "XX", "nl", "bob@example.com"},
	})
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		res := e.upload(e.token, formPart{name: "file", fileName: "roster.xlsx", content: string(book)})
		wantStatus(t, "upload", res, http.StatusAccepted)
		id := res.json(t)["id"].(string)
		if _, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: id}); err != nil {
			t.Fatal(err)
		}
		im := e.get("/api/v1/imports/" + id).json(t)
		if im["status"] != store.ImportCompletedWithErrors || im["errors_xlsx_url"] != "http://rosterd.test/api/v1/imports/"+id+"/errors.xlsx" ||
			im["errors_csv_url"] != "http://rosterd.test/api/v1/imports/"+id+"/errors.csv" {
			t.Fatalf("import = %v", im)
		}
		res = e.get("/api/v1/imports/" + id + "/errors.xlsx")
		wantStatus(t, "errors.xlsx", res, http.StatusOK)
		for h, want := range map[string]string{
			"Content-Disposition": `attachment; filename="` + id + `.xlsx"`,
			"Content-Type":        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			"Cache-Control":       "no-store",
		} {
			if got := res.header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		got, err := excelize.OpenReader(bytes.NewReader(res.body))
		if err != nil {
			t.Fatalf("errors.xlsx does not open as a workbook: %v", err)
		}
		rows, err := got.GetRows("users")
		got.Close()
		if err != nil || len(rows) != 2 || strings.Join(rows[1][:6], ";") != "007;Bob;Jones;XX;nl;bob@example.com" ||
			!strings.HasPrefix(rows[1][6], `country: "XX"`) || rows[0][6] != "errors" {
			t.Fatalf("errors.xlsx rows = %q (%v)", rows, err)
		}
		wantStatus(t, "errors.csv of the workbook", e.get("/api/v1/imports/"+id+"/errors.csv"), http.StatusOK)

		b := e.signedIn()
		page := b.get("/imports/" + id)
		wantText(t, "the import page", page,
			`href="/api/v1/imports/`+id+`/errors.xlsx" download>Download errors workbook (.xlsx)</a>`,
			`href="/api/v1/imports/`+id+`/errors.csv" download>Download errors CSV</a>`,
			"Save it as it is, a workbook (.xlsx)")
		wantStatus(t, "errors.xlsx with the session cookie", b.get("/api/v1/imports/"+id+"/errors.xlsx"), http.StatusOK)
		wantStatus(t, "other org errors.xlsx", e.do("GET", "/api/v1/imports/"+id+"/errors.xlsx", e.otherToken, nil), http.StatusNotFound)

		plain := e.importFile(seedRows(1, 2) + "E99;Bad;Row;XX;nl;bad@example.com;;;\n")
		if im := e.get("/api/v1/imports/" + plain).json(t); im["errors_xlsx_url"] != nil || im["errors_csv_url"] == nil {
			t.Errorf("a CSV upload's import = %v; want errors_csv_url alone", im)
		}
		wantError(t, "errors.xlsx of a CSV upload", e.get("/api/v1/imports/"+plain+"/errors.xlsx"), http.StatusNotFound, "", "not a workbook")
		if page := b.get("/imports/" + plain); strings.Contains(string(page.body), "errors.xlsx") || !strings.Contains(string(page.body), "Save it as CSV.") {
			t.Errorf("a CSV upload's page offers a workbook:\n%s", page.body)
		}
	})
}
