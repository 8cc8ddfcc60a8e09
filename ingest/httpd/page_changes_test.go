package httpd_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// process runs a queued import here, as a daemon's worker would.
func (e *apiEnv) process(id string) {
	e.t.Helper()
	if _, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: id}); err != nil {
		e.t.Fatalf("process %s: %v", id, err)
	}
}

// fullSync applies rows as a full roster from the command line (not
// held: it must archive fewer than the threshold); it returns the id.
func (e *pageEnv) fullSync(rows string) string {
	e.t.Helper()
	im, err := e.svc.ImportAccept(context.Background(), importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorCLI,
		Mode: importer.ModeFull, FileName: "full.csv", File: strings.NewReader(rows), Actor: "cli"})
	if err != nil {
		e.t.Fatal(err)
	}
	e.process(im.ID)
	return im.ID
}

// The approval trail in the import JSON: who made an import, who approved
// a held sync (a token by its name, an admin by their e-mail) and when,
// who cancelled one; null where nothing happened.
func TestAPIImportActorFields(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		e.importFile(seedRows(1, 20))

		show := func(id string) map[string]any {
			t.Helper()
			res := e.get("/api/v1/imports/" + id)
			wantStatus(t, "show "+id, res, http.StatusOK)
			return res.json(t)
		}
		// Made by the command line, approved by the API token "test".
		held := e.heldSync(seedRows(1, 5))
		im := show(held)
		for _, k := range []string{"approved_by", "approved_at", "cancelled_by", "reverts", "reverted_by"} {
			if v, ok := im[k]; !ok || v != nil {
				t.Fatalf("held sync: %s = %v (present %v), want null", k, v, ok)
			}
		}
		before := time.Now().Add(-time.Second)
		res := e.post("/api/v1/imports/" + held + "/approve")
		wantStatus(t, "approve by token", res, http.StatusOK)
		im = res.json(t)
		at, err := time.Parse(time.RFC3339, im["approved_at"].(string))
		if im["approved_by"] != "test" || err != nil || at.Before(before) || at.After(time.Now().Add(time.Second)) {
			t.Fatalf("approved by token: approved_by %v, approved_at %v", im["approved_by"], im["approved_at"])
		}
		e.process(held)
		if im = show(held); im["approved_by"] != "test" || im["status"] != store.ImportSucceeded {
			t.Fatalf("after its run: approved_by %v, status %v", im["approved_by"], im["status"])
		}

		// Made through the API (actor: the token's name), approved by an
		// admin in the back office.
		e.importFile(seedRows(21, 40))
		full := e.upload(e.token, formPart{name: "file", fileName: "roster.csv", content: seedRows(1, 5)})
		wantStatus(t, "upload", full, http.StatusAccepted)
		byAPI := full.json(t)["id"].(string)
		if a := show(byAPI)["actor"]; a != "test" {
			t.Fatalf("actor of an API upload = %v", a)
		}
		// Cancelled by a token.
		wantStatus(t, "cancel", e.post("/api/v1/imports/"+byAPI+"/cancel"), http.StatusOK)
		if im = show(byAPI); im["cancelled_by"] != "test" || im["approved_by"] != nil {
			t.Fatalf("cancelled: cancelled_by %v, approved_by %v", im["cancelled_by"], im["approved_by"])
		}
		held2 := e.heldSync(seedRows(1, 5))
		res = b.post("/imports/"+held2+"/approve", url.Values{"checked": {"true"}})
		wantStatus(t, "approve in the back office", res, http.StatusSeeOther)
		if im = show(held2); im["approved_by"] != adminEmail || im["approved_at"] == nil || im["cancelled_by"] != nil {
			t.Fatalf("approved by an admin: %v at %v", im["approved_by"], im["approved_at"])
		}

		// The page says who approved, in the organisation's time zone.
		page := b.get("/imports/" + held)
		wantStatus(t, "held sync's page", page, http.StatusOK)
		wantText(t, "approved import's page", page, "Approved by <strong>test</strong> at "+at.In(time.UTC).Format("2006-01-02 15:04")+" UTC")
		wantText(t, "cancelled import's page", b.get("/imports/"+byAPI), "Cancelled by <strong>test</strong>.", "Made by test")
		wantText(t, "admin-approved page", b.get("/imports/"+held2), "Approved by <strong>"+adminEmail+"</strong> at ")
	})
}

// An import's page lists what it did by kind, after the outcome: every
// failed row with its line and every message, the updated fields old →
// new, the archived users by name; each kind paged and downloadable, the
// whole searchable with a plain form; a dry run's is a preview, and while
// an import runs the page says the list comes when it ends.
func TestImportPageListsChanges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		id := b.uploadPage(partialWithFailures)
		wantText(t, "running import's page", b.get("/imports/"+id), "shown here when the import ends")
		e.process(id)

		var changes changesJSON
		changes = e.changes(id, "?kind=failed")
		res := b.get("/imports/" + id)
		wantStatus(t, "import page", res, http.StatusOK)
		wantText(t, "import page", res, `<h2 id="changes">Changes</h2>`, "Failed (2)", "Created (3)",
			`href="/api/v1/imports/`+id+`/changes.csv?kind=failed"`, `href="/api/v1/imports/`+id+`/changes.csv?kind=created"`,
			`<td class="num">4</td>`, "E91", "Ann Bad", `<td class="num">6</td>`, "E92", html.EscapeString("=cmd Bad"),
			`<a href="/users/E1">E1</a>`)
		for _, it := range changes.Items {
			for _, m := range it.Messages {
				wantText(t, "the failed row's message", res, "<li>"+html.EscapeString(m)+"</li>")
			}
		}
		if strings.Contains(string(res.body), "Updated (") || strings.Contains(string(res.body), "Next page") {
			t.Fatalf("a kind without entries, or a next page of five entries:\n%s", res.body)
		}

		// Search: a plain GET form; ?q= keeps the matching entries.
		wantText(t, "search form", res, `<form method="get" action="/imports/`+id+`"`, `name="q" type="search"`)
		res = b.get("/imports/" + id + "?q=ann")
		wantText(t, "search for ann", res, "Failed (1)", "E91", "Clear the search")
		if strings.Contains(string(res.body), "E92") || strings.Contains(string(res.body), "Created (") {
			t.Fatalf("search for ann shows more than Ann:\n%s", res.body)
		}
		res = b.get("/imports/" + id + "?q=nobody")
		wantText(t, "search for nobody", res, "No change matches “nobody”.")

		// An update: each changed field, old → new.
		upd := b.uploadPage(header + "E1;First1;Last1;BE;nl;e1@example.com;Marketing;Marketing;\n")
		e.process(upd)
		wantText(t, "update's page", b.get("/imports/"+upd), "Updated (1)",
			"<code>department_en</code>: <del>Sales</del> → <ins>Marketing</ins>",
			"<code>department_nl</code>: <del>Verkoop</del> → <ins>Marketing</ins>")

		// A dry run: a preview.
		dry := b.postMultipart("/upload", formPart{name: "file", fileName: "dry.csv", content: seedRows(100, 101)},
			formPart{name: "dry_run", content: "true"})
		wantStatus(t, "dry run upload", dry, http.StatusSeeOther)
		dryID := strings.TrimPrefix(dry.header.Get("Location"), "/imports/")
		e.process(dryID)
		wantText(t, "dry run's page", b.get("/imports/"+dryID), "What this import would do", "Would create (2)", "E100")

		// A full sync: the archived users by name.
		full := e.fullSync(seedRows(1, 1))
		res = b.get("/imports/" + full)
		wantText(t, "full sync's page", res, "Archived (2)", "First2 Last2", "First3 Last3", "Made by the command line (cli)")
	})
}

// Each kind pages on its own, 50 at a time, by links that work without
// JavaScript; a cursor that is not one is refused with a 400 that says so,
// and the first page is shown.
func TestImportPageChangesPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		id := e.importFile(seedRows(1, 51) + "E99;X;Y;XX;nl;e99@example.com;;;\n")
		res := b.get("/imports/" + id)
		wantText(t, "first page", res, "Created (51)", "The first 50 of 51", `<a href="/users/E50">E50</a>`)
		if strings.Contains(string(res.body), `<a href="/users/E51">`) {
			t.Fatal("the first page lists the 51st")
		}
		next := regexp.MustCompile(`<a href="([^"]*)">Next page →</a>`).FindStringSubmatch(string(res.body))
		if next == nil {
			t.Fatalf("no next page link:\n%s", res.body)
		}
		link := html.UnescapeString(next[1])
		if !strings.HasPrefix(link, "/imports/"+id+"?created=") || !strings.HasSuffix(link, "#changes-created") {
			t.Fatalf("next page link = %q", link)
		}
		res = b.get(strings.TrimSuffix(link, "#changes-created"))
		wantText(t, "second page", res, `<a href="/users/E51">E51</a>`, "← First page", "Failed (1)", "E99")
		if strings.Contains(string(res.body), `<a href="/users/E50">`) {
			t.Fatal("the second page lists the 50th")
		}

		res = b.get("/imports/" + id + "?created=bm9wZQ")
		wantStatus(t, "bad cursor", res, http.StatusBadRequest)
		wantText(t, "bad cursor", res, "Cursor: ", "not a cursor", `<a href="/users/E1">E1</a>`)
		res = b.get("/imports/" + id + "?q=%00")
		wantStatus(t, "bad search", res, http.StatusBadRequest)
	})
}

// A user's page shows their history, newest first: when (in the
// organisation's time zone), what, by whom, the fields old → new, the
// import it came from; a manual action is "by hand".
func TestUserPageShowsHistory(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		first := e.importFile(seedRows(1, 2))
		second := e.importFile(header + "E1;First1;Last1;BE;nl;e1@example.com;Marketing;Marketing;\n")
		wantStatus(t, "archive", b.post("/users/E1/archive", nil), http.StatusSeeOther)

		res := b.get("/users/E1")
		wantStatus(t, "user page", res, http.StatusOK)
		body := string(res.body)
		wantText(t, "user page", res, `<h2 id="history" class="flush">History</h2>`,
			`<a href="/imports/`+second+`">import `+second+`</a>, line 2`,
			"<code>department_en</code>: <del>Sales</del> → <ins>Marketing</ins>",
			`<a href="/imports/`+first+`">import `+first+`</a>`, "by hand", adminEmail)
		iArchived, iUpdated, iCreated := strings.Index(body, ">Archived</span>"), strings.Index(body, ">Updated</span>"), strings.Index(body, ">Created</span>")
		if iArchived < 0 || iUpdated < 0 || iCreated < 0 || !(iArchived < iUpdated && iUpdated < iCreated) {
			t.Fatalf("history not newest first (archived %d, updated %d, created %d):\n%s", iArchived, iUpdated, iCreated, body)
		}
		// When, in the organisation's time zone.
		wantStatus(t, "settings", b.post("/settings", settingsForm("time_zone", "Asia/Tokyo")), http.StatusSeeOther)
		var h struct{ Items []changeJSON }
		if err := json.Unmarshal(e.get("/api/v1/users/E1/history").body, &h); err != nil || len(h.Items) != 3 {
			t.Fatalf("history: %v %+v", err, h)
		}
		at, err := time.Parse(time.RFC3339, h.Items[0].At)
		if err != nil {
			t.Fatal(err)
		}
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		wantText(t, "user page in Tokyo", b.get("/users/E1"), `<td class="when">`+at.In(tokyo).Format("2006-01-02 15:04 MST")+`</td>`)
		wantText(t, "E2's page", b.get("/users/E2"), ">Created</span>")
		if strings.Contains(string(b.get("/users/E2").body), "by hand") {
			t.Fatal("E2 was never changed by hand")
		}
		e.importAs(e.other, e.otherToken, seedRows(500, 500))
		wantStatus(t, "other org's user", b.get("/users/E500"), http.StatusNotFound)
	})
}

// A held sync's page previews what approving it would do besides the
// archives it lists already: whom it would create and update, field by
// field; the archives are not listed twice.
func TestHeldSyncPagePreviewsChanges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		e.importFile(seedRows(1, 20))
		held := e.heldSync(seedRows(1, 4) + "E5;First5;Last5;BE;nl;e5@example.com;Support;Verkoop;\n" + "E30;New;Person;BE;nl;e30@example.com;;;\n")
		res := b.get("/imports/" + held)
		wantStatus(t, "held sync's page", res, http.StatusOK)
		wantText(t, "held sync's page", res, "What this import would do", "Whom it would archive is listed above; what else it would do follows.",
			"Would create (1)", "<td class=\"nowrap\">E30</td>", "Would update (1)", `<a href="/users/E5">E5</a>`,
			"<code>department_en</code>: <del>Sales</del> → <ins>Support</ins>", "Who it would archive (15)")
		if strings.Contains(string(res.body), "Would archive (") {
			t.Fatalf("the archives are listed twice:\n%s", res.body)
		}
	})
}
