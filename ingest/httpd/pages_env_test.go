package httpd_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/ingest/httpd"
	"rosterd/store"
)

// pageEnv is the real router with the back office on, over a real database:
// acme (with an admin, adminEmail/adminPassword) and other, as in apiEnv.
type pageEnv struct {
	*apiEnv
}

// newPages starts the door with sessions; acme gets an admin. cfg, when
// given, configures the service (its Queue is made here).
func newPages(t *testing.T, db *store.DB, cfg ...importer.ServiceConfig) *pageEnv {
	t.Helper()
	ctx := context.Background()
	var sc importer.ServiceConfig
	if len(cfg) > 0 {
		sc = cfg[0]
	}
	svc, q := importertest.NewService(t, db, sc)
	e := &apiEnv{t: t, db: db, svc: svc, queue: q}
	e.org, e.token = newOrg(t, db, "acme")
	e.other, e.otherToken = newOrg(t, db, "other")
	if _, err := createAdmin(ctx, db, e.org.ID, adminEmail, adminPassword); err != nil {
		t.Fatal(err)
	}
	h, err := httpd.NewRouter(httpd.Config{Service: svc, DB: db, PublicURL: "http://rosterd.test",
		Sessions: &httpd.Sessions{DB: db, TTL: time.Hour, PasswordCost: bcrypt.MinCost}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewUnstartedServer(h)
	e.srv.Config = httpd.Server(h, 0)
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return &pageEnv{apiEnv: e}
}

// browser is a cookie-keeping client that does not follow redirects, so a
// test sees each 303 and where it points.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func (e *pageEnv) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	// The server's own transport, not http.DefaultTransport: a parallel
	// test's httptest.Server.Close closes the default transport's idle
	// connections, and a POST that picked one of them fails.
	return &browser{t: e.t, base: e.srv.URL, client: &http.Client{Transport: e.srv.Client().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signedIn is a browser signed in as acme's admin.
func (e *pageEnv) signedIn() *browser {
	b := e.browser()
	res := b.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}, "next": {"/users"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/users" {
		e.t.Fatalf("sign in = %d %s: %s", res.status, res.header.Get("Location"), res.body)
	}
	return b
}

func (b *browser) send(req *http.Request) response {
	b.t.Helper()
	req.Header.Set("Accept", "text/html")
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// get loads a page.
func (b *browser) get(path string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.send(req)
}

// post submits a form as the page's own browser would (same origin).
func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.send(req)
}

// postMultipart submits a multipart form (an upload) from the same origin.
func (b *browser) postMultipart(path string, parts ...formPart) response {
	b.t.Helper()
	body, ct := multipartBody(b.t, parts...)
	req, err := http.NewRequest(http.MethodPost, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.send(req)
}

// wantText fails unless the page has every text (HTML-escaped as the
// templates write it).
func wantText(t *testing.T, what string, res response, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(string(res.body), s) {
			t.Fatalf("%s: the page does not say %q:\n%s", what, s, res.body)
		}
	}
}
