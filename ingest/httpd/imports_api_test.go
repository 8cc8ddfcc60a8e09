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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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

// midForm is an upload to /api/v1/imports whose form the test writes part
// by part while the server reads it.
type midForm struct {
	form     *multipart.Writer
	pw       *io.PipeWriter
	cancel   context.CancelFunc
	answered chan response // a zero response: the request failed
}

// startUpload begins an upload as acme and sends its file part, then the
// head of a next part ("note"), so that the server has all of the file.
func (e *apiEnv) startUpload(content string) *midForm {
	e.t.Helper()
	pr, pw := io.Pipe()
	e.t.Cleanup(func() { _ = pw.CloseWithError(errors.New("test ended")) }) // before the server's Close
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	m := &midForm{form: multipart.NewWriter(pw), pw: pw, cancel: cancel, answered: make(chan response, 1)}
	req, err := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/api/v1/imports", pr)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", m.form.FormDataContentType())
	go func() {
		res, err := e.srv.Client().Do(req)
		if err != nil {
			m.answered <- response{}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		m.answered <- response{status: res.StatusCode, header: res.Header, body: b}
	}()
	part, err := m.form.CreateFormFile("file", "roster.csv")
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := io.WriteString(part, content); err != nil {
		e.t.Fatal(err)
	}
	if _, err := m.form.CreateFormField("note"); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// awaitReceived waits until the door has read the whole file part of an
// acme upload (httpd.Config.FileReceived): a file of one chunk is then in
// the daemon's memory only, the rest of the form still to come.
func (e *apiEnv) awaitReceived() {
	e.t.Helper()
	select {
	case org := <-e.received:
		if org != e.org.ID {
			e.t.Fatalf("a file part of organisation %d was received; want acme's (%d)", org, e.org.ID)
		}
	case <-time.After(30 * time.Second):
		e.t.Fatalf("the file part was not received within 30s")
	}
}

// runEverythingQueued is what a worker does once any hold has passed,
// however long: it runs every queued import of acme now. It stands for a
// clock jumped far past the end of the file part.
func (e *apiEnv) runEverythingQueued() []string {
	e.t.Helper()
	page, err := e.svc.ImportList(context.Background(), importer.ImportListParams{OrgID: e.org.ID, Status: store.ImportQueued})
	if err != nil {
		e.t.Fatal(err)
	}
	var ran []string
	for _, im := range page.Items {
		if _, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID}); err != nil {
			e.t.Fatalf("process %s: %v", im.ID, err)
		}
		ran = append(ran, im.ID)
	}
	return ran
}

// An upload whose form ends long after its file part (issue 19: past 60s
// it ran as a dry run and the client got 409): its fate is decided when
// the form ends. While the form still arrives nothing is recorded that a
// worker or a clock could run; dry_run=false arriving after the file part,
// however late, makes a real run, answered 202.
func TestAPIUploadFormEndingLateRunsForReal(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		ctx := context.Background()
		content := seedRows(1, 3)
		m := e.startUpload(content)
		e.awaitReceived()

		// Any window passes: every queued import of the org runs now.
		if ran := e.runEverythingQueued(); len(ran) != 0 {
			t.Fatalf("mid-form, %v could run before the form ended", ran)
		}
		var imports int
		if err := db.GetContext(ctx, &imports, db.Rebind(`SELECT COUNT(*) FROM imports WHERE org_id = ?`), e.org.ID); err != nil {
			t.Fatal(err)
		}
		if imports != 0 {
			t.Fatalf("mid-form, %d imports recorded; want none before the form ends", imports)
		}

		field, err := m.form.CreateFormField("dry_run")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(field, "false")
		_ = m.form.Close()
		_ = m.pw.Close()
		res := <-m.answered
		wantStatus(t, "upload whose dry_run=false came after its file, late", res, http.StatusAccepted)
		im := res.json(t)
		if im["dry_run"] != false || im["status"] != store.ImportQueued || im["size_bytes"] != float64(len(content)) {
			t.Fatalf("answer = %s, want a queued real run of the whole file", res.body)
		}
		id := im["id"].(string)
		if due := e.dueJobs(id); due != 1 {
			t.Fatalf("the import has %d jobs due, want 1", due)
		}
		if ran := e.runEverythingQueued(); len(ran) != 1 || ran[0] != id {
			t.Fatalf("ran %v, want %s", ran, id)
		}
		done, err := e.svc.ImportGet(ctx, importer.ImportRef{OrgID: e.org.ID, ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if done.DryRun || done.Status != store.ImportSucceeded || done.Created != 3 {
			t.Fatalf("the import ran as dry run %v, %s, %d created; want a real run creating 3", done.DryRun, done.Status, done.Created)
		}
	})
}

// A client that leaves mid-form, after its file part, cancels its upload:
// no import left queued, none recorded, the stored bytes removed.
func TestAPIUploadClientLeavingMidFormLeavesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		content := seedRows(1, 3)
		m := e.startUpload(content)
		e.awaitReceived()
		// The client goes away: its request is cancelled, the rest of its
		// form never comes.
		m.cancel()
		_ = m.pw.CloseWithError(errors.New("the client left"))
		if res := <-m.answered; res.status != 0 {
			t.Fatalf("a client that left got an answer: %d %s", res.status, res.body)
		}
		e.awaitNothingStored("a client that left mid-form")
	})
}

// awaitNothingStored waits until acme holds no import and no file: an
// upload that got no answer left nothing behind.
func (e *apiEnv) awaitNothingStored(what string) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var imports, files int
		ctx := context.Background()
		if err := e.db.GetContext(ctx, &imports, e.db.Rebind(`SELECT COUNT(*) FROM imports WHERE org_id = ?`), e.org.ID); err != nil {
			e.t.Fatal(err)
		}
		if err := e.db.GetContext(ctx, &files, e.db.Rebind(`SELECT COUNT(*) FROM files WHERE org_id = ?`), e.org.ID); err != nil {
			e.t.Fatal(err)
		}
		if imports == 0 && files == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s left %d imports and %d files; want none", what, imports, files)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An upload whose client goes away after sending its whole form, while
// the commit still waits for the database, got no answer: nothing of it
// may run, not even as a dry run with its e-mail, and nothing stays. (The
// release once gave up after LockWait with a 503 and left the import to
// run later as a dry run.)
func TestAPIUploadLeftBeforeItsAnswerRunsNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		content := seedRows(1, 3)
		m := e.startUpload(content)
		e.awaitReceived()
		// The database is busy with another writer: the commit waits.
		unblock := blockFileWrites(t, db)
		if err := m.form.Close(); err != nil {
			t.Fatal(err)
		}
		_ = m.pw.Close()
		// The client gives up before its answer, then the writer ends.
		select {
		case res := <-m.answered:
			if res.status == http.StatusAccepted {
				t.Fatal("the upload was answered 202 while the database was busy")
			}
			// Answered (a 503 "busy"): it must not run either.
		case <-time.After(2 * time.Second):
			m.cancel()
			<-m.answered
		}
		unblock()
		e.awaitNothingStored("an upload whose client left before its answer")
	})
}

// blockFileWrites holds what storing a file must wait for: the process's
// write turn on SQLite, the files table on PostgreSQL (SHARE mode: no row
// may be inserted). The returned func lets it go.
func blockFileWrites(t *testing.T, db *store.DB) func() {
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
	if _, err := tx.ExecContext(ctx, `LOCK TABLE files IN SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	return func() { _ = tx.Rollback() }
}
