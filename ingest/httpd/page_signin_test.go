package httpd_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestSignInPage: a page asked for before signing in leads to the sign-in
// form and, once signed in, back to it; a wrong password says so on the
// form; signing out ends the session.
func TestSignInPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.browser()
		res := b.get("/imports?status=held")
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/signin?next=%2Fimports%3Fstatus%3Dheld" {
			t.Fatalf("a page before signing in = %d → %q, want 303 to the sign-in page", res.status, res.header.Get("Location"))
		}
		form := b.get(res.header.Get("Location"))
		wantStatus(t, "sign-in page", form, http.StatusOK)
		wantText(t, "sign-in page", form, `<label for="email">E-mail</label>`, `<label for="password">Password</label>`,
			`name="next" value="/imports?status=held"`)

		bad := b.post("/signin", url.Values{"email": {adminEmail}, "password": {"wrong"}, "next": {"/imports"}})
		wantStatus(t, "wrong password", bad, http.StatusUnauthorized)
		wantText(t, "wrong password", bad, "The e-mail or the password is not right.", `value="ada@example.com"`)
		if strings.Contains(string(bad.body), "wrong") {
			t.Error("the form shows the password back")
		}

		ok := b.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}, "next": {"/imports?status=held"}})
		if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/imports?status=held" {
			t.Fatalf("sign in = %d → %q, want 303 back to the page asked for", ok.status, ok.header.Get("Location"))
		}
		// Off-site destinations are not followed.
		if res := e.browser().post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}, "next": {"//evil.example/x"}}); res.header.Get("Location") != "/users" {
			t.Errorf("next=//evil.example/x sent the admin to %q", res.header.Get("Location"))
		}
		if res := b.get("/signin"); res.status != http.StatusSeeOther {
			t.Errorf("the sign-in page when signed in = %d, want 303 on", res.status)
		}

		out := b.post("/signout", nil)
		if out.status != http.StatusSeeOther || out.header.Get("Location") != "/signin" {
			t.Fatalf("sign out = %d → %q", out.status, out.header.Get("Location"))
		}
		if res := b.get("/users"); res.status != http.StatusSeeOther {
			t.Fatalf("a page after signing out = %d, want 303 to sign in", res.status)
		}
	})
}

// TestPagesAreEmbeddedAndUnknownPagesAnswer404: the stylesheet comes from
// the binary, and a page that does not exist says so as a page.
func TestPagesAreEmbeddedAndUnknownPagesAnswer404(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		css := b.get("/static/style.css")
		wantStatus(t, "stylesheet", css, http.StatusOK)
		if !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
			t.Errorf("stylesheet Content-Type %q", css.header.Get("Content-Type"))
		}
		res := b.get("/no-such-page")
		wantStatus(t, "unknown page", res, http.StatusNotFound)
		wantText(t, "unknown page", res, "There is no page at /no-such-page.", "<title>Not found · rosterd</title>")
		if api := e.get("/api/v1/nothing"); !strings.Contains(string(api.body), `"error"`) {
			t.Errorf("an unknown API path answers %s, want JSON", api.body)
		}
	})
}
