package httpd_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// head sends a HEAD request as the page's browser (its cookie).
func (b *browser) head(path string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodHead, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.send(req)
}

// HEAD answers like GET on every page and download: the same status and
// headers (type, length, attachment name, caching).
func TestHeadAnswersLikeGet(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		e.importFile(seedRows(1, 20))
		failed := e.importFile(header + "E21;F;L;XX;nl;e21@example.com;;;\n")
		held := e.heldSync(seedRows(1, 5))
		paths := []string{"/", "/signin", "/users", "/users/E1", "/users/E1/archive", "/upload", "/imports", "/imports/" + held,
			"/imports/" + failed, "/settings", "/nowhere", "/api/v1/users.csv", "/api/v1/template.csv", "/api/v1/imports/" + failed + "/errors.csv",
			"/api/v1/imports/" + held + "/archive.csv", "/api/v1/imports/" + held, "/api/v1/users", "/static/style.css", "/favicon.ico", "/healthz"}
		for _, p := range paths {
			get, head := b.get(p), b.head(p)
			// (No body: net/http itself writes none for HEAD.)
			if head.status != get.status {
				t.Errorf("HEAD %s = %d; GET = %d", p, head.status, get.status)
				continue
			}
			for _, h := range []string{"Content-Type", "Content-Disposition", "Cache-Control", "ETag", "Content-Security-Policy", "Location"} {
				if head.header.Get(h) != get.header.Get(h) {
					t.Errorf("HEAD %s: %s = %q, GET's = %q", p, h, head.header.Get(h), get.header.Get(h))
				}
			}
			if cl := get.header.Get("Content-Length"); cl != "" && head.header.Get("Content-Length") != cl {
				t.Errorf("HEAD %s: Content-Length = %q, GET's = %q", p, head.header.Get("Content-Length"), cl)
			}
		}
		if r := b.head("/users"); r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Errorf("HEAD /users = %d %q", r.status, r.header.Get("Content-Type"))
		}
	})
}

// The back office has a favicon (/favicon.ico, and an icon link in every
// page's head), and its static files are cached: an ETag answered with 304,
// an hour's max-age, and the versioned address the pages link kept a year.
func TestFaviconAndStaticCaching(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.browser()
		ico := b.get("/favicon.ico")
		if ico.status != http.StatusOK || ico.header.Get("Content-Type") != "image/x-icon" || !bytes.HasPrefix(ico.body, []byte{0, 0, 1, 0}) {
			t.Fatalf("/favicon.ico = %d %q %q", ico.status, ico.header.Get("Content-Type"), ico.body[:min(8, len(ico.body))])
		}
		page := b.get("/signin")
		wantText(t, "sign-in page", page, `<link rel="icon" href="/favicon.ico" sizes="32x32">`)
		links := regexp.MustCompile(`<link rel="(?:stylesheet|icon)" href="(/static/[^"?]+\?v=[0-9a-f]+)"`).FindAllStringSubmatch(string(page.body), -1)
		if len(links) != 2 {
			t.Fatalf("the page links %d versioned static files (%q), want the style sheet and the icon", len(links), links)
		}
		for _, l := range links {
			res := b.get(l[1])
			if res.status != http.StatusOK || res.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || res.header.Get("ETag") == "" {
				t.Errorf("GET %s = %d, Cache-Control %q, ETag %q", l[1], res.status, res.header.Get("Cache-Control"), res.header.Get("ETag"))
			}
		}
		for _, p := range []string{"/static/style.css", "/static/import.js", "/favicon.ico"} {
			res := b.get(p)
			etag := res.header.Get("ETag")
			if res.status != http.StatusOK || res.header.Get("Cache-Control") != "public, max-age=3600" || etag == "" {
				t.Errorf("GET %s = %d, Cache-Control %q, ETag %q", p, res.status, res.header.Get("Cache-Control"), etag)
				continue
			}
			req, _ := http.NewRequest(http.MethodGet, b.base+p, nil)
			req.Header.Set("If-None-Match", etag)
			if again := b.send(req); again.status != http.StatusNotModified || len(again.body) != 0 {
				t.Errorf("GET %s with its ETag = %d (%d bytes), want 304", p, again.status, len(again.body))
			}
		}
		if res := b.get("/static/nothing.css"); res.status != http.StatusNotFound {
			t.Errorf("a missing static file = %d", res.status)
		}
	})
}
