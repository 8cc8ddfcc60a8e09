package httpd_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/ingest/httpd"
	"rosterd/store"
	"rosterd/store/storetest"
)

// fuzzMethods are the methods FuzzAPIRouter picks from.
var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"}

// fuzzContentTypes are the bodies' types FuzzAPIRouter picks from.
var fuzzContentTypes = []string{"", "application/json", "application/x-www-form-urlencoded",
	"multipart/form-data; boundary=b", "text/csv"}

// routerTarget is the API router over db, with two organisations that
// each have an import with a failed row and three users: what
// FuzzAPIRouter and TestAPIRouterSeeds drive.
type routerTarget struct {
	h     http.Handler
	token string // acme's
	logs  *logBuffer
}

// routerSeed is one input of FuzzAPIRouter.
type routerSeed struct {
	method      uint8
	path, query string
	contentType uint8
	body        []byte
}

func newRouterTarget(tb testing.TB, db *store.DB) (*routerTarget, []routerSeed) {
	tb.Helper()
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, _ := importertest.NewService(tb, db, importer.ServiceConfig{Logger: logger})
	org, token := newOrg(tb, db, "acme")
	other, _ := newOrg(tb, db, "other")
	ctx := context.Background()
	var ids []string
	for _, o := range []*store.Org{org, other} {
		im, err := svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: o.ID, Door: store.DoorCLI, Mode: importer.ModePartial,
			FileName: "roster.csv", File: strings.NewReader(seedRows(1, 3) + "E9;;;XX;nl;bad;;;\n"), Actor: "cli"})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: o.ID, ID: im.ID}); err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, im.ID)
	}
	h, err := httpd.NewRouter(httpd.Config{Service: svc, DB: db, PublicURL: "http://rosterd.test",
		Sessions: &httpd.Sessions{DB: db, TTL: time.Hour, Logger: logger}, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}

	var seeds []routerSeed
	add := func(method uint8, path, query string, contentType uint8, body []byte) {
		seeds = append(seeds, routerSeed{method, path, query, contentType, body})
	}
	mine, theirs := ids[0], ids[1]
	for _, path := range []string{
		"imports", "imports/" + mine, "imports/" + mine + "/errors.csv", "imports/" + mine + "/archive.csv",
		"imports/" + mine + "/changes", "imports/" + mine + "/changes.csv", "imports/" + mine + "/approve",
		"imports/" + mine + "/cancel", "imports/" + mine + "/revert", "imports/" + theirs, "imports/imp_%00",
		"imports/imp_%FF/errors.csv", "template.csv", "users", "users.csv", "users/E1", "users/E1/history",
		"users/E1/archive", "users/E1/restore", "users/%00", "users/%C3%28", "users/HR%2F0042", "settings", "session",
	} {
		add(0, path, "", 0, nil)
		add(1, path, "", 1, []byte(`{"dry_run":true}`))
	}
	for _, q := range []string{"q=%00", "q=Jos%E9", "cursor=AA", "cursor=%00", "limit=-1", "limit=99999999999999999999",
		"status=%00", "kind=x%FF", "%00=1", "cursor=" + strings.Repeat("A", 200), "q=" + strings.Repeat("%E2%80%AE", 50),
		"cursor=" + encodeCursor("created.99999999999999999999"), "cursor=" + encodeCursor("imp_x' OR '1'='1"),
		"cursor=" + encodeCursor("E1\x01"), "status=archived&q=%25", "q=%5C", "kind=failed&cursor=" + encodeCursor("failed.-1")} {
		add(0, "users", q, 0, nil)
		add(0, "imports", q, 0, nil)
		add(0, "imports/"+mine+"/changes", q, 0, nil)
		add(0, "users.csv", q, 0, nil)
	}
	for _, body := range []string{`{"name":"Acme\u0000"}`, "{\"time_zone\":\"\xff\"}", `{"a":1}{"b":2}`, `{} x`,
		`{"time_zone":"Local"}`, `{"notification_emails":["a@example.com",1]}`, `{"name":"` + strings.Repeat("é", 201) + `"}`,
		`[]`, `null`, `"x"`, `{"archive_threshold_percent":1e400}`, `{"default_phone_region":"\u0000"}`,
		`{"notification_emails":["` + strings.Repeat("a", 300) + `@example.com"]}`, `{"sync_schedule":"\ud800"}`} {
		add(2, "settings", "", 1, []byte(body))
	}
	add(1, "session", "", 2, []byte("email=a%00b&password=x"))
	add(1, "session", "", 1, []byte(`{"email":"a\u0000b","password":"xxxxxxxx"}`))
	add(1, "session", "", 1, []byte(`{"email":"`+strings.Repeat("a", 300)+`@example.com","password":"xxxxxxxx"}`))
	add(1, "imports", "", 3, []byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r\xff.csv\"\r\n\r\n"+
		seedRows(1, 1)+"\r\n--b--\r\n"))
	add(1, "imports", "", 3, []byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\""+
		strings.Repeat("a", 300)+".csv\"\r\n\r\n"+seedRows(1, 1)+"\r\n--b--\r\n"))
	add(1, "imports", "", 3, []byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\x00b.csv\"\r\n\r\n"+
		seedRows(1, 1)+"\r\n--b--\r\n"))
	return &routerTarget{h: h, token: token, logs: logs}, seeds
}

// encodeCursor is a cursor as the API hands them out (base64url).
func encodeCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// serve sends one input to the router and fails on a 500, and on anything
// but a refusal for a path or query holding NUL or bytes that are not UTF-8.
func (r *routerTarget) serve(t *testing.T, in routerSeed) {
	t.Helper()
	u, err := url.ParseRequestURI("/api/v1/" + in.path)
	if err != nil || u.RawQuery != "" || u.Fragment != "" {
		return // net/http refuses it before any handler
	}
	u.RawQuery = in.query
	req := &http.Request{Method: fuzzMethods[int(in.method)%len(fuzzMethods)], URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Authorization": {"Bearer " + r.token}}, Host: "rosterd.test", RemoteAddr: "192.0.2.1:1234",
		Body: http.NoBody, RequestURI: u.RequestURI()}
	req = req.WithContext(context.Background())
	if len(in.body) > 0 {
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(in.body)), int64(len(in.body))
	}
	if ct := fuzzContentTypes[int(in.contentType)%len(fuzzContentTypes)]; ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("%s %s with %q (%s) = %d: %s\nlog:\n%s", req.Method, u.RequestURI(), in.body, req.Header.Get("Content-Type"),
			rec.Code, rec.Body, r.logs.String())
	}
	// A path or query holding NUL or bytes that are not UTF-8 is
	// refused, on SQLite too, which would store it (SPEC §5.1).
	// Gin's trailing-slash redirect reads and stores nothing: the path it
	// names is refused in turn (with a byte that is not UTF-8 it may name
	// the same path again; left, see the issue 19 note).
	trailingSlash := rec.Code == http.StatusMovedPermanently || rec.Code == http.StatusTemporaryRedirect ||
		rec.Code == http.StatusPermanentRedirect
	if badText(u) && !trailingSlash && rec.Code != http.StatusBadRequest && rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("%s %s = %d, want 400 or 404 for text that is not UTF-8 or holds NUL: %s", req.Method, u.RequestURI(), rec.Code, rec.Body)
	}
}

// FuzzAPIRouter drives the real API router, signed in with acme's token, on
// SQLite (fast, no service needed), with any path under /api/v1, any query
// and any body, and fails on any 500: a client's mistake is the client's
// (4xx), never an internal error (issue 19 item 5). TestAPIRouterSeeds runs
// its seeds on PostgreSQL too, which refuses more text than SQLite does.
// The seed corpus names every route, a real import and a real user.
func FuzzAPIRouter(f *testing.F) {
	r, seeds := newRouterTarget(f, storetest.Open(f, store.SQLite))
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.contentType, s.body)
	}
	f.Fuzz(func(t *testing.T, method uint8, path, query string, contentType uint8, body []byte) {
		r.serve(t, routerSeed{method, path, query, contentType, body})
	})
}

// TestAPIRouterSeeds runs FuzzAPIRouter's seeds on both databases, and
// fails if any answered 500 or logged an ERROR.
func TestAPIRouterSeeds(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r, seeds := newRouterTarget(t, db)
		for _, s := range seeds {
			r.serve(t, s)
		}
		if strings.Contains(r.logs.String(), "level=ERROR") {
			t.Fatalf("logged at ERROR:\n%s", r.logs.String())
		}
	})
}

// badText tells whether u's path or query holds a NUL byte or bytes that
// are not UTF-8.
func badText(u *url.URL) bool {
	if importer.TextProblem(u.Path) != "" {
		return true
	}
	for k, vs := range u.Query() {
		if importer.TextProblem(k) != "" {
			return true
		}
		for _, v := range vs {
			if importer.TextProblem(v) != "" {
				return true
			}
		}
	}
	return false
}
