package httpd_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/ingest/httpd"
	"rosterd/store"
	"rosterd/store/storetest"
)

// newLogged is newPages whose router, sessions and service log into logs
// (debug and up), so a test can say what a request logged.
func newLogged(t testing.TB, db *store.DB, logs *logBuffer) *pageEnv {
	t.Helper()
	tt, _ := t.(*testing.T)
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, q := importertest.NewService(t, db, importer.ServiceConfig{Logger: logger})
	e := &apiEnv{t: tt, db: db, svc: svc, queue: q}
	e.org, e.token = newOrg(t, db, "acme")
	e.other, e.otherToken = newOrg(t, db, "other")
	if _, err := createAdmin(context.Background(), db, e.org.ID, adminEmail, adminPassword); err != nil {
		t.Fatal(err)
	}
	h, err := httpd.NewRouter(httpd.Config{Service: svc, DB: db, PublicURL: "http://rosterd.test",
		Sessions: &httpd.Sessions{DB: db, TTL: time.Hour, Logger: logger}, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewUnstartedServer(h)
	e.srv.Config = httpd.Server(h, 0)
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return &pageEnv{apiEnv: e}
}

// badInput is a request holding a NUL byte or bytes that are not UTF-8,
// and what it must get: never a 500, never an ERROR in the log.
type badInput struct {
	what, method, path string
	contentType, body  string
	as                 string // "token", "page" (signed-in browser), "" (nobody)
	status             int
	field, text        string // for a JSON error: its field and part of its message
}

// badInputs are the requests of issue 19 item 5: ids, queries, cursors,
// JSON and forms holding NUL or bytes that are not UTF-8, through the API
// (with a token, and before signing in) and the back office.
var badInputs = []badInput{
	{what: "user id NUL", method: "GET", path: "/api/v1/users/%00", as: "token", status: 404, field: "external_id", text: "NUL"},
	{what: "user id not UTF-8", method: "GET", path: "/api/v1/users/%FF", as: "token", status: 404, field: "external_id", text: "UTF-8"},
	{what: "user history NUL", method: "GET", path: "/api/v1/users/a%00b/history", as: "token", status: 404},
	{what: "user archive NUL", method: "POST", path: "/api/v1/users/%00/archive", as: "token", status: 404},
	{what: "user restore not UTF-8", method: "POST", path: "/api/v1/users/%C3%28/restore", as: "token", status: 404},
	{what: "search NUL", method: "GET", path: "/api/v1/users?q=%00", as: "token", status: 400, field: "q", text: "NUL"},
	{what: "search not UTF-8", method: "GET", path: "/api/v1/users?q=Jos%E9", as: "token", status: 400, field: "q", text: "UTF-8"},
	{what: "users cursor AA", method: "GET", path: "/api/v1/users?cursor=AA", as: "token", status: 400, field: "cursor"},
	{what: "imports cursor AA", method: "GET", path: "/api/v1/imports?cursor=AA", as: "token", status: 400, field: "cursor"},
	{what: "imports status NUL", method: "GET", path: "/api/v1/imports?status=%00", as: "token", status: 400, field: "status"},
	{what: "import id NUL", method: "GET", path: "/api/v1/imports/imp_%00", as: "token", status: 404, field: "id"},
	{what: "errors.csv id not UTF-8", method: "GET", path: "/api/v1/imports/imp_%FF/errors.csv", as: "token", status: 404},
	{what: "archive.csv id NUL", method: "GET", path: "/api/v1/imports/imp_%00/archive.csv", as: "token", status: 404},
	{what: "changes id NUL", method: "GET", path: "/api/v1/imports/imp_%00/changes", as: "token", status: 404},
	{what: "changes search NUL", method: "GET", path: "/api/v1/imports/imp_x/changes?q=%00", as: "token", status: 400, field: "q"},
	{what: "approve id NUL", method: "POST", path: "/api/v1/imports/imp_%00/approve", as: "token", status: 404},
	{what: "revert id NUL", method: "POST", path: "/api/v1/imports/imp_%00/revert", as: "token", status: 404},
	{what: "settings NUL", method: "PUT", path: "/api/v1/settings", as: "token", contentType: "application/json",
		body: `{"name":"Acme\u0000"}`, status: 400, field: "name", text: "NUL"},
	{what: "settings not UTF-8", method: "PUT", path: "/api/v1/settings", as: "token", contentType: "application/json",
		body: "{\"time_zone\":\"Europe/Br\xfcssel\"}", status: 400, text: "UTF-8"},
	{what: "settings key NUL", method: "PUT", path: "/api/v1/settings", as: "token", contentType: "application/json",
		body: `{"na\u0000me":"Acme"}`, status: 400, text: "NUL"},
	{what: "sign-in e-mail NUL", method: "POST", path: "/api/v1/session", contentType: "application/x-www-form-urlencoded",
		body: "email=a%00b&password=x", status: 400, field: "email", text: "NUL"},
	{what: "sign-in JSON e-mail NUL", method: "POST", path: "/api/v1/session", contentType: "application/json",
		body: `{"email":"a\u0000b","password":"x"}`, status: 400, field: "email", text: "NUL"},
	{what: "sign-in page e-mail not UTF-8", method: "POST", path: "/signin", contentType: "application/x-www-form-urlencoded",
		body: "email=a%FFb&password=x", status: 400},
	{what: "users page search NUL", method: "GET", path: "/users?q=%00", as: "page", status: 400},
	{what: "user page id NUL", method: "GET", path: "/users/%00", as: "page", status: 404},
	{what: "import page id not UTF-8", method: "GET", path: "/imports/imp_%FF", as: "page", status: 404},
	{what: "settings page name NUL", method: "POST", path: "/settings", as: "page", contentType: "application/x-www-form-urlencoded",
		body:   "name=Acme%00&time_zone=UTC&sync_schedule=0+2+*+*+*&archive_threshold_percent=10&archive_threshold_min=5",
		status: 400},
}

// send makes in's request on e: with acme's token, from a signed-in
// browser (cookie, same origin, Accept: text/html) or from nobody.
func (in badInput) send(t *testing.T, e *pageEnv, b *browser) response {
	t.Helper()
	req, err := http.NewRequest(in.method, e.srv.URL+in.path, strings.NewReader(in.body))
	if err != nil {
		t.Fatal(err)
	}
	if in.contentType != "" {
		req.Header.Set("Content-Type", in.contentType)
	}
	switch in.as {
	case "token":
		req.Header.Set("Authorization", "Bearer "+e.token)
	case "page":
		req.Header.Set("Origin", e.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		return b.send(req)
	}
	if strings.HasPrefix(in.path, "/api/") {
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		return readResponse(t, res)
	}
	return e.browser().send(req)
}

// TestRequestsWithNULOrInvalidUTF8 (issue 19 item 5): an id in a path
// holding NUL or bytes that are not UTF-8 is 404, any other string 400
// naming its field, on both databases (PostgreSQL refuses such text and
// answered 500); nothing is logged above WARN for the client's mistake.
func TestRequestsWithNULOrInvalidUTF8(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		logs := &logBuffer{}
		e := newLogged(t, db, logs)
		b := e.signedIn()
		for _, in := range badInputs {
			res := in.send(t, e, b)
			if res.status != in.status {
				t.Errorf("%s: %s %s = %d, want %d: %s", in.what, in.method, in.path, res.status, in.status, res.body)
				continue
			}
			if strings.HasPrefix(in.path, "/api/") {
				m := res.json(t)
				if in.field != "" && m["field"] != in.field {
					t.Errorf("%s: field = %v, want %q: %s", in.what, m["field"], in.field, res.body)
				}
				if msg, _ := m["error"].(string); msg == "" || !strings.Contains(msg, in.text) {
					t.Errorf("%s: error = %q, want it to say %q", in.what, msg, in.text)
				}
			} else if !strings.Contains(res.header.Get("Content-Type"), "text/html") {
				t.Errorf("%s: a page's refusal is %q, not a page", in.what, res.header.Get("Content-Type"))
			}
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("a client's bad input was logged at ERROR:\n%s", logs.String())
		}
		// The organisation is as it was: nothing of the refused settings
		// was stored.
		o, err := e.svc.SettingsGet(context.Background(), e.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o.Name != "Acme" || o.TimeZone != "UTC" {
			t.Errorf("after refused settings: name %q, time zone %q", o.Name, o.TimeZone)
		}
	})
}

// readResponse reads res whole.
func readResponse(t *testing.T, res *http.Response) response {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}
