package httpd_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"rosterd/importer"
	"rosterd/ingest/httpd"
	"rosterd/store"
	"rosterd/store/storetest"
)

// TestUploadPage: the form has what an admin needs (a labelled file picker,
// dry run, the template, what an upload does, the example, the limit); a
// file sent from it becomes the organisation's web import and the browser
// goes to the import's page.
func TestUploadPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()

		form := b.get("/upload")
		wantStatus(t, "upload page", form, http.StatusOK)
		wantText(t, "upload page", form, "<h1>Upload users</h1>",
			`method="post" action="/upload" enctype="multipart/form-data"`,
			`<label for="file">CSV or Excel file</label>`, `name="file" type="file" accept=".csv,text/csv,.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,.gz,.zip,.pgp,.gpg,.asc"`,
			`name="dry_run" type="checkbox" value="true"`, "Dry run (check the file, change nothing)",
			`<button type="submit">Upload</button>`, `href="/api/v1/template.csv"`, "Download template",
			"It never archives anyone", "up to 200 MiB",
			"<pre class=\"example\">external_id;first_name;last_name;country;preferred_language;business_email;business_mobile_phone;manager;department_en;department_nl\n"+
				"E1001;Ann;Peeters;BE;nl-BE;ann.peeters@example.com;&#43;32 470 12 34 56;;Sales;Verkoop\n"+
				"E1002;Bram;Janssens;BE;nl-BE;bram.janssens@example.com;&#43;32 470 65 43 21;E1001;Sales;Verkoop\n</pre>")

		res := b.postMultipart("/upload", formPart{name: "dry_run", content: "true"},
			formPart{name: "file", fileName: "roster.csv", content: seedRows(1, 3)})
		wantStatus(t, "upload", res, http.StatusSeeOther)
		loc := res.header.Get("Location")
		id, ok := strings.CutPrefix(loc, "/imports/")
		if !ok || id == "" || strings.Contains(id, "?") {
			t.Fatalf("upload went to %q, want the import's page with a confirmation", loc)
		}
		im, err := e.svc.ImportGet(context.Background(), importer.ImportRef{OrgID: e.org.ID, ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if im.Door != store.DoorWeb || im.Mode != string(importer.ModePartial) || !im.DryRun || im.Status != store.ImportQueued || im.FileName != "roster.csv" {
			t.Fatalf("uploaded import = door %s mode %s dry_run %v %s %q, want a queued partial dry run from the web",
				im.Door, im.Mode, im.DryRun, im.Status, im.FileName)
		}
		next := b.get(loc)
		wantStatus(t, "the import's page", next, http.StatusOK)
		wantText(t, "the import's page", next, "Your file was received.", "Your file is being processed", "roster.csv")

		// Without the box ticked the upload is no dry run.
		res = b.postMultipart("/upload", formPart{name: "file", fileName: "roster.csv", content: seedRows(1, 3)})
		wantStatus(t, "upload without dry run", res, http.StatusSeeOther)
		id, _, _ = strings.Cut(strings.TrimPrefix(res.header.Get("Location"), "/imports/"), "?")
		if im, err := e.svc.ImportGet(context.Background(), importer.ImportRef{OrgID: e.org.ID, ID: id}); err != nil || im.DryRun {
			t.Fatalf("upload without the box = %+v %v, want no dry run", im, err)
		}
	})
}

// TestUploadPageRefusals: a missing, unchosen, empty or too large file shows
// the form again with why, beside the file picker, and records nothing.
func TestUploadPageRefusals(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		small := e.withUploadLimit(1 << 10)
		for _, tc := range []struct {
			name   string
			env    *pageEnv
			parts  []formPart
			status int
			text   string
		}{
			{"no file part", e, []formPart{{name: "dry_run", content: "true"}}, http.StatusBadRequest, "No file was sent"},
			{"no file chosen", e, []formPart{{name: "file", content: ""}}, http.StatusBadRequest, "No file was chosen: choose a CSV file to upload."},
			{"empty file", e, []formPart{{name: "file", fileName: "empty.csv", content: ""}}, http.StatusBadRequest, "The file is empty"},
			{"an old Excel workbook", e, []formPart{{name: "file", fileName: "roster.xls", content: "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"}},
				http.StatusBadRequest, "This is an old Excel workbook (.xls) or a password-protected workbook, which rosterd does not read; rosterd reads CSV (UTF-8) and Excel workbooks (.xlsx): open it in your spreadsheet"},
			{"too large", small, []formPart{{name: "file", fileName: "big.csv", content: seedRows(1, 100)}}, http.StatusRequestEntityTooLarge,
				"The file is larger than the 1 KiB limit."},
		} {
			b := tc.env.signedIn()
			res := b.postMultipart("/upload", tc.parts...)
			wantStatus(t, tc.name, res, tc.status)
			wantText(t, tc.name, res, "<h1>Upload users</h1>", `aria-invalid="true"`,
				`<p class="field-error" id="file-error">`+tc.text)
			if strings.Contains(string(res.body), `<p class="error"`) {
				t.Errorf("%s: the message is shown above the form too, not only beside the file", tc.name)
			}
		}
		page, err := e.svc.ImportList(context.Background(), importer.ImportListParams{OrgID: e.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range page.Items {
			if im.Status != store.ImportCancelled {
				t.Errorf("a refused upload left import %s %s", im.ID, im.Status)
			}
		}
	})
}

// withUploadLimit is the same back office over the same database, with
// another upload limit; signing in works as on e.
func (e *pageEnv) withUploadLimit(n int64) *pageEnv {
	e.t.Helper()
	h, err := httpd.NewRouter(httpd.Config{Service: e.svc, DB: e.db, PublicURL: "http://rosterd.test",
		Sessions: &httpd.Sessions{DB: e.db, TTL: time.Hour, PasswordCost: bcrypt.MinCost}, MaxUploadBytes: n})
	if err != nil {
		e.t.Fatal(err)
	}
	a := *e.apiEnv
	a.srv = httptest.NewUnstartedServer(h)
	a.srv.Config = httpd.Server(h, 0)
	a.srv.Start()
	e.t.Cleanup(a.srv.Close)
	return &pageEnv{apiEnv: &a}
}
