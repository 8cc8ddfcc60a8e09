package httpd_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/ingest/httpd"
	"rosterd/store"
	"rosterd/store/storetest"
)

// uploadPage sends content from the upload page and returns the import's id.
func (b *browser) uploadPage(content string) string {
	b.t.Helper()
	res := b.postMultipart("/upload", formPart{name: "file", fileName: "roster.csv", content: content})
	wantStatus(b.t, "upload", res, http.StatusSeeOther)
	id, ok := strings.CutPrefix(res.header.Get("Location"), "/imports/")
	if !ok {
		b.t.Fatalf("upload went to %q", res.header.Get("Location"))
	}
	id, _, _ = strings.Cut(id, "?")
	return id
}

// heldSync makes a full sync of rows that archives more than the threshold
// allows, so that it is held; it returns the import's id.
func (e *pageEnv) heldSync(rows string) string {
	e.t.Helper()
	ctx := context.Background()
	im, err := e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorCLI,
		Mode: importer.ModeFull, FileName: "full.csv", File: strings.NewReader(rows)})
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := e.svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID})
	if err != nil {
		e.t.Fatal(err)
	}
	if out.Import.Status != store.ImportHeld {
		e.t.Fatalf("full sync = %s, want held", out.Import.Status)
	}
	return im.ID
}

func (e *pageEnv) importStatus(id string) *store.Import {
	e.t.Helper()
	im, err := e.svc.ImportGet(context.Background(), importer.ImportRef{OrgID: e.org.ID, ID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	return im
}

// TestImportPageFollowsTheImport: until it runs the import's page is "your
// file is being processed", refreshing itself without JavaScript and
// polling the API with it; once it has run, the counts and, with failed
// rows, the errors CSV and how to fix and upload it again.
func TestImportPageFollowsTheImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		content := seedRows(1, 3) + "E91;Ann;Bad;XX;nl;e91@example.com;Sales;Verkoop;\n" +
			"E92;Bob;Bad;BE;nl;not-an-e-mail;Sales;Verkoop;\n"
		id := b.uploadPage(content)

		live := b.get("/imports/" + id)
		wantStatus(t, "the page before the run", live, http.StatusOK)
		wantText(t, "the page before the run", live, "<h1>Your file is being processed</h1>",
			`<noscript><meta http-equiv="refresh" content="2"></noscript>`,
			`data-import-live="`+id+`"`, `<script src="/static/import.js?v=`,
			`<dt id="progress-label">Progress</dt>`, `<progress aria-labelledby="progress-label" max="100" value="0">`,
			`data-phase="queued"`, itoa(int64(len(content)))+" bytes to read", "Waiting to start", "roster.csv",
			`action="/imports/`+id+`/cancel"`)
		js := b.get("/static/import.js")
		wantStatus(t, "import.js", js, http.StatusOK)
		wantText(t, "import.js", js, `"/api/v1/imports/"`, "window.location.reload()")
		// What the script polls answers the session cookie.
		poll := b.get("/api/v1/imports/" + id)
		wantStatus(t, "the API with the session cookie", poll, http.StatusOK)
		if m := poll.json(t); m["status"] != store.ImportQueued {
			t.Fatalf("polled import = %s", poll.body)
		}

		if _, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: id}); err != nil {
			t.Fatal(err)
		}
		done := b.get("/imports/" + id)
		wantStatus(t, "the page after the run", done, http.StatusOK)
		for _, s := range []string{"http-equiv=\"refresh\"", "import.js", "<progress"} {
			if strings.Contains(string(done.body), s) {
				t.Errorf("the page of an ended import still has %s", s)
			}
		}
		wantText(t, "the page after the run", done, "<h1>Import of roster.csv</h1>",
			`<span class="badge completed_with_errors">Completed with errors</span>`,
			"<b>3</b> created", "<b>0</b> updated", "<b>2</b> failed", "5 rows in the file.",
			`href="/api/v1/imports/`+id+`/errors.csv" download>Download errors CSV</a>`,
			"Fix the cells the <code>errors</code> column names.", `<a href="/upload">Upload it again</a>`,
			"<dt>Door</dt><dd>Back office</dd>", "<dt>Dry run</dt><dd>No</dd>", "<dt>Finished</dt>",
			`<li data-phase="reading">Reading `, `<li data-phase="checking">Checking `, `<li data-phase="saving">Saving `,
			`<li data-phase="finishing">Finishing `, `<li data-phase="done">Done `)
		csv := b.get("/api/v1/imports/" + id + "/errors.csv")
		wantStatus(t, "errors CSV with the session cookie", csv, http.StatusOK)
		if lines := strings.Split(strings.TrimSpace(string(csv.body)), "\n"); len(lines) != 3 ||
			!strings.HasPrefix(lines[1], "E91;") || !strings.HasPrefix(lines[2], "E92;") {
			t.Fatalf("errors CSV =\n%s", csv.body)
		}

		// A clean file: no errors CSV to offer.
		clean := b.uploadPage(seedRows(1, 4))
		if _, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: clean}); err != nil {
			t.Fatal(err)
		}
		res := b.get("/imports/" + clean)
		wantText(t, "a clean import", res, `<span class="badge succeeded">Succeeded</span>`, "<b>1</b> created", "<b>3</b> unchanged")
		if strings.Contains(string(res.body), "errors.csv") {
			t.Error("a clean import offers an errors CSV")
		}

		// A queued import can be cancelled from its page.
		queued := b.uploadPage(seedRows(5, 6))
		res = b.post("/imports/"+queued+"/cancel", nil)
		wantStatus(t, "cancel a queued import", res, http.StatusSeeOther)
		if loc := res.header.Get("Location"); loc != "/imports/"+queued {
			t.Fatalf("cancel went to %q", loc)
		}
		if im := e.importStatus(queued); im.Status != store.ImportCancelled {
			t.Fatalf("cancelled import = %s", im.Status)
		}
		res = b.post("/imports/"+queued+"/cancel", nil)
		wantStatus(t, "cancel it again", res, http.StatusConflict)
		wantText(t, "cancel it again", res, `<p class="error" role="alert">Import `+queued+` is cancelled; only a queued, held or processing import can be cancelled.</p>`,
			`<span class="badge cancelled">Cancelled</span>`)
	})
}

// TestImportPageBarWithoutATotal: while the import checks (no total: how
// many checks depends on the file) the page's bar is indeterminate, with no
// percentage, rather than standing at 0%; one check is "1 check". A phase
// with a total (saving) has its percentage. Reading a file of unknown size
// has no total either.
func TestImportPageBarWithoutATotal(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		ctx := context.Background()
		b := e.signedIn()
		id := b.uploadPage(seedRows(1, 3))
		if err := store.ImportStart(ctx, db, id, time.Now()); err != nil {
			t.Fatal(err)
		}
		set := func(phase string, rows, done, total int64) response {
			t.Helper()
			if err := store.ImportProgressSet(ctx, db, &store.ImportProgress{ImportID: id, Run: 1, Phase: phase,
				RowsRead: rows, BytesRead: 1000, Done: done, Total: total}); err != nil {
				t.Fatal(err)
			}
			res := b.get("/imports/" + id)
			wantStatus(t, phase, res, http.StatusOK)
			return res
		}
		indeterminate := `<progress aria-labelledby="progress-label" max="100"></progress>`
		res := set(store.PhaseChecking, 44000, 1, 0)
		wantText(t, "checking", res, `data-phase="checking"`, indeterminate, "44,000 rows read; 1 check done")
		if strings.Contains(string(res.body), `value="0"`) || strings.Contains(string(res.body), "0%") {
			t.Errorf("while checking the bar says 0%%:\n%s", res.body)
		}
		wantText(t, "checking", set(store.PhaseChecking, 44000, 7, 0), indeterminate, "44,000 rows read; 7 checks done")
		wantText(t, "saving", set(store.PhaseSaving, 44000, 11000, 44000),
			`<progress aria-labelledby="progress-label" max="100" value="25">25%</progress>`, "11,000 of 44,000 users written")

		if f, pct, determinate := httpd.PhaseFigures(httpd.Progress{Phase: store.PhaseReading, BytesRead: 2048, RowsRead: 10}); determinate || pct != 0 {
			t.Errorf("reading a file of unknown size: %q %d%% determinate %v, want no percentage", f, pct, determinate)
		}
		if f, pct, determinate := httpd.PhaseFigures(httpd.Progress{Phase: store.PhaseReading, BytesRead: 512, TotalBytes: 2048}); !determinate || pct != 25 {
			t.Errorf("reading a quarter of the file: %q %d%% determinate %v, want 25%%", f, pct, determinate)
		}
	})
}

// TestImportPageOfAnImportThatNeverRan: a failed import applied nothing,
// nor did one cancelled or superseded before it ran; their pages say so in
// one line instead of a table of zeros and "0 rows in the file". One
// cancelled after it was counted (a held sync) keeps its counts.
func TestImportPageOfAnImportThatNeverRan(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		ctx := context.Background()
		b := e.signedIn()
		noCounts := func(what, id string, says string) {
			t.Helper()
			res := b.get("/imports/" + id)
			wantStatus(t, what, res, http.StatusOK)
			wantText(t, what, res, says)
			for _, s := range []string{"<h2>Counts</h2>", `<ul class="counts">`, "in the file."} {
				if strings.Contains(string(res.body), s) {
					t.Errorf("%s: the page has %q:\n%s", what, s, res.body)
				}
			}
		}

		im, err := e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorCLI, Mode: importer.ModeFull,
			FileName: "empty.csv", File: strings.NewReader(header)})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := e.svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID}); err != nil || out.Import.Status != store.ImportFailed {
			t.Fatalf("an empty full roster: %v %+v, want failed", err, out)
		}
		noCounts("failed", im.ID, "<p>Nothing was applied: the error above says why.</p>")

		cancelled := b.uploadPage(seedRows(1, 2))
		wantStatus(t, "cancel", b.post("/imports/"+cancelled+"/cancel", nil), http.StatusSeeOther)
		noCounts("cancelled before it ran", cancelled, "<p>Nothing was applied: it was cancelled before its rows were counted.</p>")

		superseded := b.uploadPage(seedRows(1, 2))
		if err := store.ImportSupersedeOne(ctx, db, e.org.ID, superseded, im.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		noCounts("superseded before it ran", superseded, "<p>Nothing was applied: a newer roster was applied before this one ran.</p>")

		e.importFile(seedRows(1, 20))
		held := e.heldSync(seedRows(1, 5))
		wantStatus(t, "cancel the held sync", b.post("/imports/"+held+"/cancel", nil), http.StatusSeeOther)
		wantText(t, "a held sync cancelled", b.get("/imports/"+held), "<h2>Counts</h2>",
			"Nothing was applied: these are what the import would have done.", "<b>15</b> would archive", "5 rows in the file.")
	})
}

// TestHeldSyncPage: a held full sync's page says why it is held, lists the
// first 100 users it would archive with all of them as CSV, and is approved
// (only with the box ticked) or cancelled from the page.
// TestSyncWithErrorsPageSaysWhereTheFixedFileGoes: the page of a full sync
// with failed rows sends the fixed errors CSV to the back office or the API,
// and warns off /in/, where it would be read as the whole roster.
func TestSyncWithErrorsPageSaysWhereTheFixedFileGoes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		ctx := context.Background()
		b := e.signedIn()
		im, err := e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorSFTP, Mode: importer.ModeFull,
			FileName: "roster.csv", File: strings.NewReader(seedRows(1, 3) + "E91;Ann;Bad;XX;nl;e91@example.com;Sales;Verkoop;\n")})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := e.svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID}); err != nil || out.Import.Failed != 1 {
			t.Fatalf("sync: %v %+v", err, out)
		}
		res := b.get("/imports/" + im.ID)
		wantStatus(t, "the sync's page", res, http.StatusOK)
		wantText(t, "the sync's page", res, "Download errors CSV",
			`<a href="/upload">Upload it in the back office</a> (Actions → Upload users) or with <code>POST /api/v1/imports</code>`,
			"such an upload never archives anyone",
			"Do not put it into <code>/in/</code> on the SFTP endpoint: a file there is the whole roster")
		if strings.Contains(string(res.body), "Upload it again") {
			t.Errorf("the sync's page says to upload the errors CSV again, as if to where it came from")
		}
	})
}

func TestHeldSyncPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		ctx := context.Background()
		b := e.signedIn()
		e.importFile(seedRows(1, 120))
		held := e.heldSync(seedRows(1, 5))

		res := b.get("/imports/" + held)
		wantStatus(t, "held sync", res, http.StatusOK)
		wantText(t, "held sync", res, `<span class="badge held">Held</span>`, "Why it is held", "Why it is held:</strong> This sync would archive 115 of 120 active users", `<a href="#decide">Approve or cancel it</a>`,
			"Who it would archive (115)", "The first 100 of 115, by id; the CSV has them all.", "And 15 more.",
			`href="/api/v1/imports/`+held+`/archive.csv" download>Download all as CSV</a>`,
			`action="/imports/`+held+`/approve"`, `name="checked" type="checkbox" value="true" required`, "I have checked the list",
			`action="/imports/`+held+`/cancel"`, "<dt>Door</dt><dd>Command line</dd>")
		if n := strings.Count(string(res.body), `<tr><td><a href="/users/E`); n != 100 {
			t.Fatalf("the page lists %d users to archive, want the first 100", n)
		}
		if strings.Contains(string(res.body), "http-equiv=\"refresh\"") {
			t.Error("a held sync's page refreshes itself")
		}

		res = b.post("/imports/"+held+"/approve", nil)
		wantStatus(t, "approve without the box", res, http.StatusBadRequest)
		wantText(t, "approve without the box", res, `<p class="field-error" id="checked-error">Tick “I have checked the list”`, "Who it would archive (115)")
		if s := e.importStatus(held).Status; s != store.ImportHeld {
			t.Fatalf("approved without the box: %s", s)
		}

		res = b.post("/imports/"+held+"/approve", url.Values{"checked": {"true"}})
		wantStatus(t, "approve", res, http.StatusSeeOther)
		loc := res.header.Get("Location")
		if loc != "/imports/"+held {
			t.Fatalf("approve went to %q", loc)
		}
		if s := e.importStatus(held).Status; s != store.ImportQueued {
			t.Fatalf("approved sync = %s, want queued", s)
		}
		wantText(t, "after approving", b.get(loc), `<p class="notice" role="status">Approved: the sync runs again against the roster as it is now`, "Your file is being processed")
		out, err := e.svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: held})
		if err != nil {
			t.Fatal(err)
		}
		if out.Import.Status != store.ImportSucceeded || out.Import.Archived != 115 {
			t.Fatalf("approved sync ran as %s %+v", out.Import.Status, out.Import.Counts)
		}
		res = b.post("/imports/"+held+"/approve", url.Values{"checked": {"true"}})
		wantStatus(t, "approve again", res, http.StatusConflict)
		wantText(t, "approve again", res, "only a held import can be approved", "<b>115</b> archived")

		// Cancelled: nobody archived.
		e.importFile(seedRows(200, 220))
		held = e.heldSync(seedRows(1, 5))
		res = b.post("/imports/"+held+"/cancel", nil)
		wantStatus(t, "cancel", res, http.StatusSeeOther)
		if s := e.importStatus(held).Status; s != store.ImportCancelled {
			t.Fatalf("cancelled sync = %s", s)
		}
		if u, err := e.svc.UserGet(ctx, importer.UserRef{OrgID: e.org.ID, ExternalID: "E220"}); err != nil || u.Status != store.StatusActive {
			t.Fatalf("after cancel E220 = %v %v, want active", u, err)
		}
		wantText(t, "after cancelling", b.get(res.header.Get("Location")), "Cancelled: nothing of this import was applied.",
			`<span class="badge cancelled">Cancelled</span>`)

		// Superseded by a newer roster: approving is refused, and the page
		// leads to the newer import.
		held = e.heldSync(seedRows(1, 5))
		newer, err := e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorCLI,
			Mode: importer.ModeFull, FileName: "newer.csv", File: strings.NewReader(seedRows(1, 5) + strings.TrimPrefix(seedRows(200, 220), header))})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := e.svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: newer.ID}); err != nil || out.Import.Status != store.ImportSucceeded {
			t.Fatalf("newer roster = %+v %v", out, err)
		}
		res = b.post("/imports/"+held+"/approve", url.Values{"checked": {"true"}})
		wantStatus(t, "approve a superseded sync", res, http.StatusConflict)
		wantText(t, "approve a superseded sync", res, "was superseded by import "+newer.ID,
			`<span class="badge superseded">Superseded</span>`, `<a href="/imports/`+newer.ID+`">import `+newer.ID+`</a>`)
	})
}

// TestImportsHistoryPage: empty at first (with the way to a first upload);
// then newest first, filtered by status, a page at a time, with a held sync
// called out.
func TestImportsHistoryPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		res := b.get("/imports")
		wantStatus(t, "no imports", res, http.StatusOK)
		wantText(t, "no imports", res, "No imports yet.", `<a href="/upload">Upload your first file</a>`, `<label for="status">Status</label>`)

		first := e.importFile(seedRows(1, 10))
		withErrors := e.importFile(seedRows(11, 12) + "E13;Ann;Bad;XX;nl;e13@example.com;Sales;Verkoop;\n")
		held := e.heldSync(seedRows(1, 2))
		ids := []string{held, withErrors, first} // newest first

		res = b.get("/imports")
		wantStatus(t, "history", res, http.StatusOK)
		wantText(t, "history", res, `<p class="notice held-callout" role="status">`, "waits for your approval", `<a href="/imports/`+held+`">review it</a>`,
			`<tr class="held">`, `<span class="badge completed_with_errors">Completed with errors</span>`,
			`<td class="hide-narrow">Full</td>`, `<td class="hide-narrow">Partial</td>`, `<td class="hide-narrow">API</td>`)
		wantOrder(t, "history", res, ids...)
		for _, s := range []string{"queued", "processing", "succeeded", "completed_with_errors", "failed", "held", "superseded", "cancelled"} {
			wantText(t, "status filter", res, `<option value="`+s+`">`)
		}

		res = b.get("/imports?status=completed_with_errors")
		wantStatus(t, "filtered", res, http.StatusOK)
		wantText(t, "filtered", res, `<option value="completed_with_errors" selected>`, `href="/imports/`+withErrors+`"`,
			"<td class=\"num\">2</td><td class=\"num\">0</td>\n    <td class=\"num hide-narrow\">0</td><td class=\"num\">1</td>")
		for _, other := range []string{first} {
			if strings.Contains(string(res.body), other) {
				t.Errorf("the completed_with_errors filter shows import %s", other)
			}
		}
		res = b.get("/imports?status=held")
		if strings.Contains(string(res.body), "held-callout") {
			t.Error("the list of held syncs calls itself out")
		}
		res = b.get("/imports?status=failed")
		wantText(t, "nothing failed", res, "No imports with the status “Failed”.", `<a href="/imports">Show all imports</a>`)
		nope := b.get("/imports?status=nope")
		wantStatus(t, "a made-up status", nope, http.StatusBadRequest)
		wantText(t, "a made-up status", nope, `<p class="error" role="alert">`, `nope`, `<label for="status">Status</label>`, `<option value="">All statuses</option>`)

		// Two at a time: the newest two, then the oldest, and back.
		res = b.get("/imports?limit=2")
		wantOrder(t, "page 1", res, ids[:2]...)
		if strings.Contains(string(res.body), first) {
			t.Fatal("page 1 of 2 shows the oldest import")
		}
		older := regexp.MustCompile(`<a href="(/imports\?[^"]*cursor=[^"]*)">Older imports</a>`).FindSubmatch(res.body)
		if older == nil {
			t.Fatalf("page 1 has no link to older imports:\n%s", res.body)
		}
		res = b.get(html.UnescapeString(string(older[1])))
		wantStatus(t, "page 2", res, http.StatusOK)
		wantOrder(t, "page 2", res, first)
		wantText(t, "page 2", res, `<a href="/imports?limit=2">Newest imports</a>`)
		if strings.Contains(string(res.body), "Older imports") || strings.Contains(string(res.body), `href="/imports/`+withErrors+`"`) {
			t.Fatalf("page 2 goes on or repeats page 1:\n%s", res.body)
		}
	})
}

// wantOrder fails unless the page links each import, in this order, and no
// other.
func wantOrder(t *testing.T, what string, res response, ids ...string) {
	t.Helper()
	var got []string
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`<td class="when"><a href="/imports/([^"]+)">`).FindAllSubmatch(res.body, -1) {
		if id := string(m[1]); !seen[id] {
			seen[id] = true
			got = append(got, id)
		}
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("%s: imports listed %v, want %v", what, got, ids)
	}
}

// TestImportPagesOfAnotherOrganisation: another organisation's import page,
// approve and cancel answer 404 and change nothing.
func TestImportPagesOfAnotherOrganisation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		e.importFile(seedRows(1, 20))
		held := e.heldSync(seedRows(1, 5))
		if _, err := createAdmin(context.Background(), db, e.other.ID, "bob@example.com", adminPassword); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		wantStatus(t, "sign in to other", b.post("/signin", url.Values{"email": {"bob@example.com"}, "password": {adminPassword}}), http.StatusSeeOther)
		res := b.get("/imports/" + held)
		wantStatus(t, "another organisation's import", res, http.StatusNotFound)
		wantText(t, "another organisation's import", res, "<h1>Not found</h1>")
		wantStatus(t, "approve another organisation's import", b.post("/imports/"+held+"/approve", url.Values{"checked": {"true"}}), http.StatusNotFound)
		wantStatus(t, "cancel another organisation's import", b.post("/imports/"+held+"/cancel", nil), http.StatusNotFound)
		if s := e.importStatus(held).Status; s != store.ImportHeld {
			t.Fatalf("acme's sync after other's attempts = %s", s)
		}
		if res := b.get("/imports"); strings.Contains(string(res.body), held) {
			t.Fatal("other's history lists acme's import")
		}
	})
}
