package httpd_test

import (
	"bytes"
	"context"
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

// FuzzAPIRouter drives the real API router, signed in with acme's token, on
// SQLite (fast, no service needed), with any path under /api/v1, any query
// and any body, and fails on any 500: a client's mistake is the client's
// (4xx), never an internal error (issue 19 item 5). The inputs that answered
// 500 on PostgreSQL run on both databases in TestRequestsWithNULOrInvalidUTF8.
// The seed corpus names every route, a real import and a real user.
func FuzzAPIRouter(f *testing.F) {
	db := storetest.Open(f, store.SQLite)
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, _ := importertest.NewService(f, db, importer.ServiceConfig{Logger: logger})
	org, token := newOrgTB(f, db, "acme")
	other, _ := newOrgTB(f, db, "other")
	ctx := context.Background()
	var ids []string
	for _, o := range []*store.Org{org, other} {
		im, err := svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: o.ID, Door: store.DoorCLI, Mode: importer.ModePartial,
			FileName: "roster.csv", File: strings.NewReader(seedRows(1, 3) + "E9;;;XX;nl;bad;;;\n"), Actor: "cli"})
		if err != nil {
			f.Fatal(err)
		}
		if _, err := svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: o.ID, ID: im.ID}); err != nil {
			f.Fatal(err)
		}
		ids = append(ids, im.ID)
	}
	h, err := httpd.NewRouter(httpd.Config{Service: svc, DB: db, PublicURL: "http://rosterd.test",
		Sessions: &httpd.Sessions{DB: db, TTL: time.Hour, Logger: logger}, UploadHold: time.Minute, Logger: logger})
	if err != nil {
		f.Fatal(err)
	}

	mine, theirs := ids[0], ids[1]
	for _, path := range []string{
		"imports", "imports/" + mine, "imports/" + mine + "/errors.csv", "imports/" + mine + "/archive.csv",
		"imports/" + mine + "/changes", "imports/" + mine + "/changes.csv", "imports/" + mine + "/approve",
		"imports/" + mine + "/cancel", "imports/" + mine + "/revert", "imports/" + theirs, "imports/imp_%00",
		"imports/imp_%FF/errors.csv", "template.csv", "users", "users.csv", "users/E1", "users/E1/history",
		"users/E1/archive", "users/E1/restore", "users/%00", "users/%C3%28", "users/HR%2F0042", "settings", "session",
	} {
		f.Add(uint8(0), path, "", uint8(0), []byte(nil))
		f.Add(uint8(1), path, "", uint8(1), []byte(`{"dry_run":true}`))
	}
	for _, q := range []string{"q=%00", "q=Jos%E9", "cursor=AA", "cursor=%00", "limit=-1", "limit=99999999999999999999",
		"status=%00", "kind=x%FF", "%00=1", "cursor=" + strings.Repeat("A", 200), "q=" + strings.Repeat("%E2%80%AE", 50)} {
		f.Add(uint8(0), "users", q, uint8(0), []byte(nil))
		f.Add(uint8(0), "imports", q, uint8(0), []byte(nil))
		f.Add(uint8(0), "imports/"+mine+"/changes", q, uint8(0), []byte(nil))
	}
	for _, body := range []string{`{"name":"Acme\u0000"}`, "{\"time_zone\":\"\xff\"}", `{"a":1}{"b":2}`, `{} x`,
		`{"time_zone":"Local"}`, `{"notification_emails":["a@example.com",1]}`, `{"name":"` + strings.Repeat("é", 201) + `"}`,
		`[]`, `null`, `"x"`, `{"archive_threshold_percent":1e400}`, `{"default_phone_region":"\u0000"}`} {
		f.Add(uint8(2), "settings", "", uint8(1), []byte(body))
	}
	f.Add(uint8(1), "session", "", uint8(2), []byte("email=a%00b&password=x"))
	f.Add(uint8(1), "session", "", uint8(1), []byte(`{"email":"a\u0000b","password":"xxxxxxxx"}`))
	f.Add(uint8(1), "imports", "", uint8(3), []byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r\xff.csv\"\r\n\r\n"+
		seedRows(1, 1)+"\r\n--b--\r\n"))
	f.Add(uint8(1), "imports", "", uint8(3), []byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\""+
		strings.Repeat("a", 300)+".csv\"\r\n\r\n"+seedRows(1, 1)+"\r\n--b--\r\n"))

	f.Fuzz(func(t *testing.T, method uint8, path, query string, contentType uint8, body []byte) {
		u, err := url.ParseRequestURI("/api/v1/" + path)
		if err != nil || u.RawQuery != "" || u.Fragment != "" {
			return // net/http refuses it before any handler
		}
		u.RawQuery = query
		req := &http.Request{Method: fuzzMethods[int(method)%len(fuzzMethods)], URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Authorization": {"Bearer " + token}}, Host: "rosterd.test", RemoteAddr: "192.0.2.1:1234",
			Body: http.NoBody, RequestURI: u.RequestURI()}
		req = req.WithContext(ctx)
		if len(body) > 0 {
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		if ct := fuzzContentTypes[int(contentType)%len(fuzzContentTypes)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s with %q (%s) = %d: %s\nlog:\n%s", req.Method, u.RequestURI(), body, req.Header.Get("Content-Type"),
				rec.Code, rec.Body, logs.String())
		}
		// A path or query holding NUL or bytes that are not UTF-8 is
		// refused, on SQLite too, which would store it (SPEC §5.1).
		if badText(u) && rec.Code != http.StatusBadRequest && rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("%s %s = %d, want 400 or 404 for text that is not UTF-8 or holds NUL: %s", req.Method, u.RequestURI(), rec.Code, rec.Body)
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
