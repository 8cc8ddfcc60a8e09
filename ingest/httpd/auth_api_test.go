package httpd_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/ingest/httpd"
	"rosterd/store"
	"rosterd/store/storetest"
)

// Without a token, with a made-up one or with a revoked one, every API
// route answers 401 with WWW-Authenticate and says what to send; health
// checks need none.
func TestAPIRefusesMissingBadAndRevokedTokens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		revoked, err := store.TokenCreate(context.Background(), db, e.org.ID, "old")
		if err != nil {
			t.Fatal(err)
		}
		if err := store.TokenRevoke(context.Background(), db, e.org.ID, "old"); err != nil {
			t.Fatal(err)
		}
		routes := [][2]string{{"GET", "/api/v1/imports"}, {"POST", "/api/v1/imports"}, {"GET", "/api/v1/imports/x"},
			{"GET", "/api/v1/imports/x/errors.csv"}, {"GET", "/api/v1/imports/x/archive.csv"}, {"POST", "/api/v1/imports/x/approve"},
			{"POST", "/api/v1/imports/x/cancel"}, {"GET", "/api/v1/template.csv"}, {"GET", "/api/v1/users"},
			{"GET", "/api/v1/users/E1"}, {"GET", "/api/v1/users.csv"}, {"POST", "/api/v1/users/E1/archive"},
			{"POST", "/api/v1/users/E1/restore"}, {"GET", "/api/v1/settings"}, {"PUT", "/api/v1/settings"}}
		for _, r := range routes {
			for _, tok := range []struct{ name, value, says string }{
				{"none", "", "authentication required"},
				{"made up", "rst_nottherightone", "not valid or was revoked"},
				{"revoked", revoked, "not valid or was revoked"},
			} {
				res := e.do(r[0], r[1], tok.value, nil)
				wantError(t, r[0]+" "+r[1]+" with token "+tok.name, res, http.StatusUnauthorized, "", tok.says)
				if !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("%s %s: WWW-Authenticate = %q", r[0], r[1], res.header.Get("WWW-Authenticate"))
				}
			}
		}
		res := e.do("GET", "/api/v1/imports", "", nil, "Authorization", "Basic dXNlcjpwYXNz")
		wantError(t, "basic auth", res, http.StatusUnauthorized, "", "Bearer <API token>")
		wantStatus(t, "healthz", e.do("GET", "/healthz", "", nil), http.StatusOK)
		wantStatus(t, "readyz", e.do("GET", "/readyz", "", nil), http.StatusOK)
		wantStatus(t, "with acme's token", e.get("/api/v1/imports"), http.StatusOK)
	})
}

// An admin signs in, and the session cookie lets the browser in as their
// organisation without a token; a cross-origin POST carrying that cookie is
// refused; sign-out ends it on the server; wrong passwords are throttled.
func TestAPISessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		if _, err := createAdmin(context.Background(), db, e.other.ID, "admin@other.test", "correct horse"); err != nil {
			t.Fatal(err)
		}
		h, err := httpd.NewRouter(httpd.Config{Service: e.svc, DB: db, Sessions: &httpd.Sessions{DB: db}})
		if err != nil {
			t.Fatal(err)
		}
		e.srv = httptest.NewUnstartedServer(h)
		e.srv.Config = httpd.Server(h, 0)
		e.srv.Start()
		t.Cleanup(e.srv.Close)
		signIn := func(password string, headers ...string) response {
			body := `{"email": "admin@other.test", "password": "` + password + `"}`
			return e.do("POST", "/api/v1/session", "", strings.NewReader(body), append([]string{"Content-Type", "application/json"}, headers...)...)
		}

		wantStatus(t, "no cookie", e.do("GET", "/api/v1/settings", "", nil), http.StatusUnauthorized)
		wantStatus(t, "wrong password", signIn("wrong"), http.StatusUnauthorized)
		res := signIn("correct horse")
		wantStatus(t, "sign in", res, http.StatusNoContent)
		var cookie string
		for _, c := range (&http.Response{Header: res.header}).Cookies() {
			if c.Name == httpd.SessionCookie {
				cookie = c.Name + "=" + c.Value
				if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
					t.Errorf("session cookie %+v: want HttpOnly and SameSite=Lax", c)
				}
			}
		}
		if cookie == "" {
			t.Fatalf("sign-in set no session cookie: %v", res.header)
		}
		res = e.do("GET", "/api/v1/settings", "", nil, "Cookie", cookie)
		wantStatus(t, "with the session", res, http.StatusOK)
		if res.json(t)["organisation"] != "other" {
			t.Fatalf("settings = %s, want other's", res.body)
		}
		// A page on another site posting with the admin's cookie.
		wantStatus(t, "cross-origin POST with the session", e.do("POST", "/api/v1/users/E1/archive", "", nil,
			"Cookie", cookie, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
		// Sign-out ends the session on the server: the kept cookie is dead.
		wantStatus(t, "sign out", e.do("DELETE", "/api/v1/session", "", nil, "Cookie", cookie), http.StatusNoContent)
		wantStatus(t, "after sign-out", e.do("GET", "/api/v1/settings", "", nil, "Cookie", cookie), http.StatusUnauthorized)
		// Failures are throttled: after 5, even the right password waits.
		for range 4 {
			signIn("wrong")
		}
		res = signIn("correct horse")
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
			t.Errorf("after 5 failures: %d Retry-After %q, want 429 with Retry-After", res.status, res.header.Get("Retry-After"))
		}
	})
}

// A cross-origin POST is refused before it reaches a handler, even with a
// valid token (a browser would send the admin's cookie just the same), and
// records nothing.
func TestAPIRefusesCrossOriginPost(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		body, ct := multipartBody(t, formPart{name: "file", fileName: "roster.csv", content: seedRows(1, 2)})
		res := e.do("POST", "/api/v1/imports", e.token, body, "Content-Type", ct,
			"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		wantError(t, "cross-origin upload", res, http.StatusForbidden, "", "cross-origin request refused")
		page, err := e.svc.ImportList(context.Background(), importer.ImportListParams{OrgID: e.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 0 {
			t.Fatalf("a refused upload recorded %d imports", len(page.Items))
		}
		// A cross-origin GET reads only: it passes (and needs its token).
		wantStatus(t, "cross-origin GET", e.do("GET", "/api/v1/imports", e.token, nil, "Origin", "https://evil.example",
			"Sec-Fetch-Site", "cross-site"), http.StatusOK)
		// The same origin passes.
		body, ct = multipartBody(t, formPart{name: "file", fileName: "roster.csv", content: seedRows(1, 2)})
		wantStatus(t, "same-origin upload", e.do("POST", "/api/v1/imports", e.token, body, "Content-Type", ct,
			"Sec-Fetch-Site", "same-origin"), http.StatusAccepted)
	})
}

// /readyz is 503 when the database does not answer.
func TestReadyzWithoutDatabase(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		wantStatus(t, "readyz", e.do("GET", "/readyz", "", nil), http.StatusOK)
		db.Close()
		wantError(t, "readyz, database closed", e.do("GET", "/readyz", "", nil), http.StatusServiceUnavailable, "", "not ready")
		wantStatus(t, "healthz, database closed", e.do("GET", "/healthz", "", nil), http.StatusOK)
	})
}
