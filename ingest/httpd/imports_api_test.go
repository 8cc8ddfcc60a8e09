package httpd_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"rosterd/importer"
	"rosterd/jobs"
	"rosterd/roster"
	"rosterd/store"
	"rosterd/store/storetest"
)

// A script's round trip: upload (202, Location, the import JSON), follow
// the Location, read the outcome, download the errors CSV as <id>.csv;
// another organisation finds none of it.
func TestAPIUploadShowErrorsCSV(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		content := header +
			"E1;Ann;Smith;BE;nl;ann@example.com;Sales;Verkoop;\n" +
			"E2;Bob;Jones;XX;nl;bob@example.com;;;\n" +
			"E3;Cid;Moss;BE;nl;not-an-email;;;\n"
		res := e.upload(e.token, formPart{name: "file", fileName: "roster.csv", content: content})
		wantStatus(t, "upload", res, http.StatusAccepted)
		im := res.json(t)
		id := im["id"].(string)
		if loc := res.header.Get("Location"); loc != "/api/v1/imports/"+id {
			t.Fatalf("Location = %q", loc)
		}
		if im["status"] != store.ImportQueued || im["door"] != store.DoorAPI || im["mode"] != "partial" ||
			im["dry_run"] != false || im["file_name"] != "roster.csv" || im["size_bytes"] != float64(len(content)) ||
			im["organisation"] != "acme" || im["errors_csv_url"] != nil {
			t.Fatalf("accepted import = %s", res.body)
		}
		if _, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: id}); err != nil {
			t.Fatal(err)
		}
		res = e.get(res.header.Get("Location"))
		wantStatus(t, "show", res, http.StatusOK)
		im = res.json(t)
		counts := im["counts"].(map[string]any)
		if im["status"] != store.ImportCompletedWithErrors || counts["created"] != 1.0 || counts["failed"] != 2.0 ||
			im["errors_csv_url"] != "http://rosterd.test/api/v1/imports/"+id+"/errors.csv" {
			t.Fatalf("processed import = %s", res.body)
		}

		res = e.get("/api/v1/imports/" + id + "/errors.csv")
		wantStatus(t, "errors.csv", res, http.StatusOK)
		if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="`+id+`.csv"` {
			t.Fatalf("Content-Disposition = %q", cd)
		}
		if ct := res.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Fatalf("Content-Type = %q", ct)
		}
		lines := strings.Split(strings.TrimSpace(string(res.body)), "\n")
		if len(lines) != 3 || !strings.HasSuffix(strings.TrimSpace(lines[0]), ";errors") ||
			!strings.HasPrefix(lines[1], "E2;Bob;Jones;XX;") || !strings.HasPrefix(lines[2], "E3;Cid;Moss;") {
			t.Fatalf("errors.csv =\n%s", res.body)
		}

		// No row failed: no errors CSV.
		clean := e.importFile(seedRows(10, 11))
		wantError(t, "errors.csv of a clean import", e.get("/api/v1/imports/"+clean+"/errors.csv"), http.StatusNotFound, "", "errors CSV")
		wantError(t, "unknown import", e.get("/api/v1/imports/imp_nosuch"), http.StatusNotFound, "", "not found")

		// Another organisation: 404 for the import, its errors CSV, and its
		// approve and cancel, never 403; and its list is empty.
		for _, r := range [][2]string{{"GET", "/api/v1/imports/" + id}, {"GET", "/api/v1/imports/" + id + "/errors.csv"},
			{"POST", "/api/v1/imports/" + id + "/approve"}, {"POST", "/api/v1/imports/" + id + "/cancel"}} {
			wantStatus(t, "other org "+r[0]+" "+r[1], e.do(r[0], r[1], e.otherToken, nil), http.StatusNotFound)
		}
		res = e.do("GET", "/api/v1/imports", e.otherToken, nil)
		wantStatus(t, "other org list", res, http.StatusOK)
		if items := res.json(t)["items"].([]any); len(items) != 0 {
			t.Fatalf("other org sees %d imports", len(items))
		}
	})
}

// The import list pages newest first with an opaque cursor that stays
// right while new imports arrive, and filters by status.
func TestAPIImportListPagesAndFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		var ids []string
		for i := 1; i <= 3; i++ {
			ids = append(ids, e.importFile(seedRows(i, i)))
		}
		page := func(query string) ([]string, *string) {
			t.Helper()
			res := e.get("/api/v1/imports" + query)
			wantStatus(t, "list "+query, res, http.StatusOK)
			var body struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
				NextCursor *string `json:"next_cursor"`
			}
			if err := json.Unmarshal(res.body, &body); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range body.Items {
				got = append(got, it.ID)
			}
			return got, body.NextCursor
		}
		got, next := page("?limit=2")
		if len(got) != 2 || got[0] != ids[2] || got[1] != ids[1] || next == nil {
			t.Fatalf("page 1 = %v next %v, want %v", got, next, ids[1:])
		}
		if strings.Contains(*next, ids[1]) {
			t.Fatalf("cursor %q is the raw id, not opaque", *next)
		}
		e.importFile(seedRows(4, 4)) // a new import does not shift the next page
		got, next2 := page("?limit=2&cursor=" + *next)
		if len(got) != 1 || got[0] != ids[0] || next2 != nil {
			t.Fatalf("page 2 = %v next %v, want [%s] and no next", got, next2, ids[0])
		}
		if got, _ := page("?status=queued"); len(got) != 0 {
			t.Fatalf("queued = %v, want none", got)
		}
		if got, _ := page("?status=succeeded"); len(got) != 4 {
			t.Fatalf("succeeded = %v, want 4", got)
		}
		wantError(t, "bad status", e.get("/api/v1/imports?status=done"), http.StatusBadRequest, "status", "not an import status")
		wantError(t, "limit 101", e.get("/api/v1/imports?limit=101"), http.StatusBadRequest, "limit", "1 to 100")
		wantError(t, "limit x", e.get("/api/v1/imports?limit=x"), http.StatusBadRequest, "limit", "1 to 100")
		wantError(t, "bad cursor", e.get("/api/v1/imports?cursor=%21%21"), http.StatusBadRequest, "cursor", "next_cursor")
	})
}

// dry_run counts whether it comes before or after the file part, and the
// import's job is due only once the form is complete.
func TestAPIUploadDryRunBeforeOrAfterFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		file := formPart{name: "file", fileName: "roster.csv", content: seedRows(1, 2)}
		for _, tc := range []struct {
			name  string
			parts []formPart
			want  bool
		}{
			{"before", []formPart{{name: "dry_run", content: "true"}, file}, true},
			{"after", []formPart{file, {name: "dry_run", content: "true"}}, true},
			{"false after", []formPart{file, {name: "dry_run", content: "false"}}, false},
			{"absent", []formPart{file}, false},
		} {
			res := e.upload(e.token, tc.parts...)
			wantStatus(t, "upload with dry_run "+tc.name, res, http.StatusAccepted)
			id := res.json(t)["id"].(string)
			if res.json(t)["dry_run"] != tc.want {
				t.Fatalf("dry_run %s: answered %s", tc.name, res.body)
			}
			im, err := e.svc.ImportGet(context.Background(), importer.ImportRef{OrgID: e.org.ID, ID: id})
			if err != nil {
				t.Fatal(err)
			}
			if im.DryRun != tc.want {
				t.Fatalf("dry_run %s: stored %v, want %v", tc.name, im.DryRun, tc.want)
			}
			if due := e.dueJobs(id); due != 1 {
				t.Fatalf("dry_run %s: %d jobs due for the import, want 1 (released once the form was read)", tc.name, due)
			}
			processed, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: id})
			if err != nil {
				t.Fatal(err)
			}
			if processed.Import.DryRun != tc.want || processed.Import.Status != store.ImportSucceeded {
				t.Fatalf("dry_run %s: ran as %v %s", tc.name, processed.Import.DryRun, processed.Import.Status)
			}
		}
		wantError(t, "dry_run=maybe", e.upload(e.token, formPart{name: "dry_run", content: "maybe"}, file),
			http.StatusBadRequest, "dry_run", "true or false")
	})
}

// dueJobs counts the import's jobs that a worker may take now.
func (e *apiEnv) dueJobs(id string) int {
	e.t.Helper()
	res, err := e.queue.JobList(context.Background(), river.NewJobListParams().Kinds(jobs.ImportArgs{}.Kind()).
		States(rivertype.JobStateAvailable, rivertype.JobStateScheduled).First(1000))
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, j := range res.Jobs {
		var args jobs.ImportArgs
		if err := json.Unmarshal(j.EncodedArgs, &args); err == nil && args.ImportID == id &&
			j.State == rivertype.JobStateAvailable {
			n++
		}
	}
	return n
}

// Bad uploads answer 400 or 413 with a message a person can act on, and
// record nothing.
func TestAPIUploadRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 1024)
		big := header + strings.Repeat("E1;Ann;Smith;BE;nl;ann@example.com;Sales;Verkoop;\n", 40)
		res := e.upload(e.token, formPart{name: "dry_run", content: "true"}, formPart{name: "file", fileName: "big.csv", content: big})
		wantError(t, "over the limit", res, http.StatusRequestEntityTooLarge, "file", "1 KiB limit")
		wantError(t, "no file part", e.upload(e.token, formPart{name: "dry_run", content: "true"}), http.StatusBadRequest, "file", "no file was sent")
		wantError(t, "empty file", e.upload(e.token, formPart{name: "file", fileName: "roster.csv", content: ""}), http.StatusBadRequest, "file", "empty")
		wantError(t, "empty body", e.do("POST", "/api/v1/imports", e.token, strings.NewReader(""),
			"Content-Type", "multipart/form-data; boundary=xyz"), http.StatusBadRequest, "file", "")
		wantError(t, "not multipart", e.do("POST", "/api/v1/imports", e.token, strings.NewReader(big), "Content-Type", "text/csv"),
			http.StatusBadRequest, "file", "multipart/form-data")
		wantError(t, "two files", e.upload(e.token, formPart{name: "file", fileName: "a.csv", content: seedRows(1, 1)},
			formPart{name: "file", fileName: "b.csv", content: seedRows(1, 1)}), http.StatusBadRequest, "file", "one file")

		// A bad field after the file: the import already accepted is cancelled.
		wantError(t, "bad dry_run after the file", e.upload(e.token, formPart{name: "file", fileName: "a.csv", content: seedRows(1, 1)},
			formPart{name: "dry_run", content: "maybe"}), http.StatusBadRequest, "dry_run", "true or false")
		wantError(t, "PUT imports", e.do("PUT", "/api/v1/imports", e.token, nil), http.StatusMethodNotAllowed, "", "not allowed")

		page, err := e.svc.ImportList(context.Background(), importer.ImportListParams{OrgID: e.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		var live []string
		for _, im := range page.Items {
			if im.Status != store.ImportCancelled {
				live = append(live, im.ID+" "+im.Status)
			}
		}
		if len(live) != 0 {
			t.Fatalf("refused uploads left imports that may run: %v", live)
		}
		var files int
		if err := db.GetContext(context.Background(), &files, `SELECT COUNT(*) FROM files WHERE org_id = `+
			itoa(e.org.ID)+` AND id NOT IN (SELECT file_id FROM imports)`); err != nil {
			t.Fatal(err)
		}
		if files != 0 {
			t.Fatalf("refused uploads left %d stored files", files)
		}
	})
}

// The template is the bytes `rosterd template` prints.
func TestAPITemplate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		res := e.get("/api/v1/template.csv")
		wantStatus(t, "template", res, http.StatusOK)
		if string(res.body) != roster.TemplateCSV() {
			t.Fatalf("template.csv = %q, want %q", res.body, roster.TemplateCSV())
		}
		if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="template.csv"` {
			t.Fatalf("Content-Disposition = %q", cd)
		}
	})
}

// While the form is still arriving after its file, the accepted import has
// no job a worker may take, and counts as a dry run (what a daemon dying
// then would run); the rest of the form decides.
func TestAPIUploadHeldUntilFormComplete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		pr, pw := io.Pipe()
		t.Cleanup(func() { _ = pw.CloseWithError(errors.New("test ended")) }) // before the server's Close
		form := multipart.NewWriter(pw)
		answered := make(chan response, 1)
		go func() {
			answered <- e.do("POST", "/api/v1/imports", e.token, pr, "Content-Type", form.FormDataContentType())
		}()
		part, err := form.CreateFormFile("file", "roster.csv")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(part, seedRows(1, 3))
		// The file part is complete once the next part starts.
		field, err := form.CreateFormField("note")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(field, "x")
		var im store.Import
		deadline := time.Now().Add(10 * time.Second)
		for {
			page, err := e.svc.ImportList(context.Background(), importer.ImportListParams{OrgID: e.org.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) == 1 {
				im = page.Items[0]
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the file was not accepted while the form was still arriving")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !im.DryRun || im.Status != store.ImportQueued {
			t.Fatalf("mid-form import = dry_run %v %s, want a queued dry run", im.DryRun, im.Status)
		}
		if due := e.dueJobs(im.ID); due != 0 {
			t.Fatalf("mid-form import has %d jobs due; want none before the form is complete", due)
		}
		_ = form.Close()
		_ = pw.Close()
		res := <-answered
		wantStatus(t, "upload", res, http.StatusAccepted)
		if got := res.json(t); got["id"] != im.ID || got["dry_run"] != false {
			t.Fatalf("answer = %s", res.body)
		}
		if due := e.dueJobs(im.ID); due != 1 {
			t.Fatalf("released import has %d jobs due, want 1", due)
		}
	})
}

// An upload whose client goes away after sending its whole file, while the
// release still waits for the database, got no answer: nothing of it may
// run, not even as a dry run with its e-mail. (The release once gave up
// after LockWait with a 503 and left the import to run later as a dry run.)
func TestAPIUploadLeftBeforeItsAnswerRunsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		ctx := context.Background()
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		reqCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		req, err := http.NewRequestWithContext(reqCtx, "POST", e.srv.URL+"/api/v1/imports", pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		answered := make(chan *http.Response, 1)
		go func() {
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				res = nil
			}
			answered <- res
		}()
		fw, err := mw.CreateFormFile("file", "roster.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(fw, seedRows(1, 3)); err != nil {
			t.Fatal(err)
		}
		// A next part starts: the file part is complete, so the door
		// accepts the import; wait until it is recorded.
		if _, err := mw.CreateFormField("note"); err != nil {
			t.Fatal(err)
		}
		var id string
		deadline := time.Now().Add(30 * time.Second)
		for id == "" {
			_ = db.GetContext(ctx, &id, db.Rebind(`SELECT COALESCE(MAX(id), '') FROM imports WHERE org_id = ?`), e.org.ID)
			if time.Now().After(deadline) {
				t.Fatal("the upload was never accepted")
			}
			time.Sleep(20 * time.Millisecond)
		}
		// The database is busy with another writer: the release waits.
		unblock := blockImportWrites(t, db, id)
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		_ = pw.Close()
		// The client gives up before its answer, then the writer ends.
		select {
		case res := <-answered:
			if res != nil && res.StatusCode == http.StatusAccepted {
				t.Fatal("the upload was answered 202 while the database was busy")
			}
			// Answered (a 503 "busy"): it must not run either.
		case <-time.After(2 * time.Second):
			cancel()
			<-answered
		}
		unblock()
		for {
			im, err := e.svc.ImportGet(ctx, importer.ImportRef{OrgID: e.org.ID, ID: id})
			if err != nil {
				t.Fatal(err)
			}
			if im.Status == store.ImportCancelled {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the import of an upload that got no answer is %s (dry run %v), want cancelled", im.Status, im.DryRun)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// blockImportWrites holds what a write to the import must wait for: the
// process's write turn on SQLite, the import's row on PostgreSQL. The
// returned func lets it go.
func blockImportWrites(t *testing.T, db *store.DB, id string) func() {
	t.Helper()
	ctx := context.Background()
	if db.Dialect == store.SQLite {
		unlock, err := db.LockWrites(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return unlock
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT id FROM imports WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	return func() { _ = tx.Rollback() }
}
