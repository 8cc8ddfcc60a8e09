package httpd_test

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/ingest/httpd"
	"rosterd/store"
	"rosterd/store/storetest"
)

// newServed is newPages behind the daemon's own http.Server (httpd.Server)
// with http_timeout = timeout, so its deadlines and limits apply.
func newServed(t *testing.T, db *store.DB, timeout time.Duration) *pageEnv {
	t.Helper()
	svc, q := importertest.NewService(t, db, importer.ServiceConfig{})
	e := &apiEnv{t: t, db: db, svc: svc, queue: q}
	e.org, e.token = newOrg(t, db, "acme")
	e.other, e.otherToken = newOrg(t, db, "other")
	if _, err := createAdmin(context.Background(), db, e.org.ID, adminEmail, adminPassword); err != nil {
		t.Fatal(err)
	}
	h, err := httpd.NewRouter(httpd.Config{Service: svc, DB: db, PublicURL: "http://rosterd.test",
		Sessions: &httpd.Sessions{DB: db, TTL: time.Hour, PasswordCost: bcrypt.MinCost}, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewUnstartedServer(h)
	e.srv.Config = httpd.Server(h, timeout)
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return &pageEnv{apiEnv: e}
}

// TestSecurityHeaders: every answer — pages, static files, the API, a
// refused cross-origin form — tells the browser to run only rosterd's own
// scripts, never to frame it, not to guess content types and not to send
// the address to other sites; and no page carries inline script or style
// the policy would block.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		id := e.importFile(seedRows(1, 3))
		type answer struct {
			what string
			res  response
		}
		answers := []answer{
			{"sign-in page", e.browser().get("/signin")},
			{"users page", b.get("/users")},
			{"user page", b.get("/users/E1")},
			{"imports page", b.get("/imports")},
			{"import page", b.get("/imports/" + id)},
			{"upload page", b.get("/upload")},
			{"settings page", b.get("/settings")},
			{"not-found page", b.get("/nowhere")},
			{"style sheet", b.get("/static/style.css")},
			{"script", b.get("/static/import.js")},
			{"API list", e.get("/api/v1/users")},
			{"API error", e.get("/api/v1/imports/nope")},
			{"export", e.get("/api/v1/users.csv")},
			{"health", e.get("/healthz")},
			{"cross-origin form", e.do("POST", "/settings", "", strings.NewReader("name=x"),
				"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Content-Type", "application/x-www-form-urlencoded")},
		}
		if got := answers[len(answers)-1].res.status; got != http.StatusForbidden {
			t.Fatalf("cross-origin form = %d, want 403", got)
		}
		scriptTag := regexp.MustCompile(`(?i)<script\b[^>]*>`)
		inline := regexp.MustCompile(`(?i)\sstyle=|\son[a-z]+=|javascript:`)
		for _, a := range answers {
			h := a.res.header
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s: Content-Security-Policy %q lacks %s", a.what, csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-") {
				t.Errorf("%s: Content-Security-Policy %q allows unsafe sources", a.what, csp)
			}
			for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
				if got := h.Get(k); got != v {
					t.Errorf("%s: %s = %q, want %q", a.what, k, got, v)
				}
			}
			if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
				if m := inline.Find(a.res.body); m != nil {
					t.Errorf("%s: inline script or style the policy blocks: %q", a.what, m)
				}
				for _, tag := range scriptTag.FindAll(a.res.body, -1) {
					if !strings.Contains(string(tag), " src=") {
						t.Errorf("%s: inline script the policy blocks: %q", a.what, tag)
					}
				}
			}
		}
	})
}

// TestSlowHeadersAreCutOff: a client that starts a request and never
// finishes its headers loses the connection after http_timeout (at most
// 10s), instead of holding it for ever.
func TestSlowHeadersAreCutOff(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newServed(t, db, time.Second)
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: rosterd.test\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		n, err := conn.Read(make([]byte, 1024))
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the connection was still open after %s", time.Since(start).Round(time.Millisecond))
		}
		if !errors.Is(err, io.EOF) && n == 0 && err == nil {
			t.Fatalf("read %d bytes, %v", n, err)
		}
		if took := time.Since(start); took < 900*time.Millisecond || took > 10*time.Second {
			t.Errorf("cut off after %s, want about the 1s http_timeout", took)
		}
	})
}

// TestOversizedHeadersAre431: headers beyond 64 KiB are refused with 431.
func TestOversizedHeadersAre431(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newServed(t, db, time.Minute)
		res := e.do("GET", "/api/v1/users", e.token, nil, "X-Big", strings.Repeat("a", 80<<10))
		wantStatus(t, "80 KiB header", res, http.StatusRequestHeaderFieldsTooLarge)
		wantStatus(t, "ordinary headers", e.get("/api/v1/users"), http.StatusOK)
	})
}

// TestLargeJSONBodyRefused: a settings body past 64 KiB is refused with 413
// and says why, before it is read whole.
func TestLargeJSONBodyRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newServed(t, db, time.Minute)
		body := `{"name":"` + strings.Repeat("a", 100<<10) + `"}`
		res := e.do("PUT", "/api/v1/settings", e.token, strings.NewReader(body), "Content-Type", "application/json")
		wantError(t, "100 KiB settings", res, http.StatusRequestEntityTooLarge, "", "larger than the 64 KiB")
		wantStatus(t, "small settings", e.do("PUT", "/api/v1/settings", e.token, strings.NewReader(`{"name":"Acme"}`),
			"Content-Type", "application/json"), http.StatusOK)
	})
}

// slowUpload sends content as an upload in 64 KiB pieces, pause apart,
// stalling for stall after the first half; it returns the answer.
func slowUpload(t *testing.T, e *pageEnv, content string, pause, stall time.Duration) (*http.Response, error) {
	t.Helper()
	pr, pw := io.Pipe()
	form := multipart.NewWriter(pw)
	go func() {
		part, err := form.CreateFormFile("file", "roster.csv")
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		for i := 0; i < len(content); i += 64 << 10 {
			if i >= len(content)/2 && stall > 0 {
				time.Sleep(stall)
				stall = 0
			}
			if _, err := io.WriteString(part, content[i:min(i+64<<10, len(content))]); err != nil {
				pw.CloseWithError(err)
				return
			}
			time.Sleep(pause)
		}
		pw.CloseWithError(form.Close())
	}()
	// A cut-off request closes pr, which ends the sender.
	req, err := http.NewRequest("POST", e.srv.URL+"/api/v1/imports", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", form.FormDataContentType())
	return e.srv.Client().Do(req)
}

// TestSlowSteadyUploadSucceeds: with http_timeout 1s, a 3 MB upload that
// takes several seconds but keeps moving is accepted; one that stalls for
// longer than the timeout is cut off.
func TestSlowSteadyUploadSucceeds(t *testing.T) {
	t.Parallel()
	storetest.EachSideBySide(t, func(t *testing.T, db *store.DB) {
		e := newServed(t, db, time.Second)
		content := seedRows(1, 45_000)
		if len(content) < 3_000_000 {
			t.Fatalf("content is %d bytes, want 3 MB or more", len(content))
		}
		start := time.Now()
		res, err := slowUpload(t, e, content, 80*time.Millisecond, 0)
		if err != nil {
			t.Fatalf("steady upload after %s: %v", time.Since(start), err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		took := time.Since(start)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("steady upload = %d after %s: %s", res.StatusCode, took, body)
		}
		if took < 3*time.Second {
			t.Fatalf("the upload took %s: not longer than the 1s timeout, so it proves nothing", took)
		}
		t.Logf("%d bytes in %s accepted", len(content), took.Round(time.Millisecond))

		res, err = slowUpload(t, e, seedRows(1, 20_000), 10*time.Millisecond, 3*time.Second)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusAccepted {
				t.Fatalf("an upload stalled for 3s was accepted: %s", body)
			}
		}
	})
}
