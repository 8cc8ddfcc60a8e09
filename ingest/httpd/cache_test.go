package httpd_test

import (
	"net/url"
	"strings"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestPersonalDataIsNotCached (issue 19 item 15, SPEC §5.1): every answer
// that holds personal data — the API's JSON, every CSV download (export,
// errors, archive list, change list), every back-office page, their HEADs,
// and the refusals and errors that echo what was asked — carries
// Cache-Control: no-store, so that neither a browser's cache nor a proxy
// keeps a copy; only the static files are cached.
func TestPersonalDataIsNotCached(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		withErrors := e.importFile(seedRows(1, 10) + "E99;Bad;Row;XX;nl;bad;;;\n")
		held := e.heldSync(seedRows(1, 2))
		type answer struct {
			what   string
			res    response
			status int
		}
		api := func(path string, status int) answer { return answer{"API " + path, e.get(path), status} }
		page := func(path string, status int) answer { return answer{"page " + path, b.get(path), status} }
		answers := []answer{
			api("/api/v1/imports", 200),
			api("/api/v1/imports/"+withErrors, 200),
			api("/api/v1/imports/"+withErrors+"/errors.csv", 200),
			api("/api/v1/imports/"+held+"/archive.csv", 200),
			api("/api/v1/imports/"+withErrors+"/changes", 200),
			api("/api/v1/imports/"+withErrors+"/changes.csv", 200),
			api("/api/v1/users", 200),
			api("/api/v1/users?q=First1", 200),
			api("/api/v1/users.csv", 200),
			api("/api/v1/users/E1", 200),
			api("/api/v1/users/E1/history", 200),
			api("/api/v1/settings", 200),
			api("/api/v1/template.csv", 200),
			api("/api/v1/users/E404", 404),
			api("/api/v1/nowhere/E1", 404),
			{"API archive", e.post("/api/v1/users/E2/archive"), 200},
			{"API restore", e.post("/api/v1/users/E2/restore"), 200},
			{"API settings saved", e.putSettings(`{"name":"Acme"}`), 200},
			{"API without credentials", e.do("GET", "/api/v1/users", "", nil), 401},
			{"API sign-in refused", e.do("POST", "/api/v1/session", "", strings.NewReader(url.Values{"email": {adminEmail}, "password": {"wrong-password"}}.Encode()),
				"Content-Type", "application/x-www-form-urlencoded"), 401},
			{"API sign-in", e.do("POST", "/api/v1/session", "", strings.NewReader(url.Values{"email": {adminEmail}, "password": {adminPassword}}.Encode()),
				"Content-Type", "application/x-www-form-urlencoded"), 204},
			page("/users", 200),
			page("/users?q=First1&status=active", 200),
			page("/users/E1", 200),
			page("/users/E1?history=x", 400),
			page("/users/E1/archive", 200),
			page("/imports", 200),
			page("/imports?status=held", 200),
			page("/imports/"+withErrors, 200),
			page("/imports/"+withErrors+"?q=First", 200),
			page("/imports/"+held, 200),
			page("/upload", 200),
			page("/settings", 200),
			page("/nowhere", 404),
			page("/users/E404", 404),
			page("/", 303),
			{"HEAD of a page", b.head("/users/E1"), 200},
			{"HEAD of the export", e.do("HEAD", "/api/v1/users.csv", e.token, nil), 200},
			{"sign-in page", e.browser().get("/signin"), 200},
			{"settings form refused", b.post("/settings", settingsForm("name", "")), 400},
			{"settings form saved", b.post("/settings", settingsForm()), 303},
			{"archive form", b.post("/users/E3/archive", url.Values{}), 303},
		}
		for _, a := range answers {
			if a.res.status != a.status {
				t.Errorf("%s = %d, want %d: %.300s", a.what, a.res.status, a.status, a.res.body)
				continue
			}
			if got := a.res.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("%s (%d): Cache-Control = %q, want no-store", a.what, a.res.status, got)
			}
		}
		// Static files, which hold nothing personal, are cached.
		if got := b.get("/static/style.css").header.Get("Cache-Control"); !strings.HasPrefix(got, "public") {
			t.Errorf("style sheet: Cache-Control = %q, want it cached", got)
		}
	})
}
