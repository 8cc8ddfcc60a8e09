package httpd_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// TestSignInPage: a page asked for before signing in leads to the sign-in
// form and, once signed in, back to it; a wrong password says so on the
// form; signing out ends the session.
func TestSignInPage(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

// TestPagesRefuseWhatOthersCouldSlipIn: no link can send a signed-in admin
// off-site after sign-in or make a page show words of its choosing; the
// small forms take no large body, even before sign-in; a form sent after
// the session ended brings the admin back to its page, told to send it
// again; the pages cannot be framed; the static files list no directory.
func TestPagesRefuseWhatOthersCouldSlipIn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		for _, next := range []string{"//evil.example/x", "/\t/evil.example", "/\\evil.example", "https://evil.example/", "/ /evil", "javascript:alert(1)"} {
			res := e.browser().post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}, "next": {next}})
			if res.status != http.StatusSeeOther || res.header.Get("Location") != "/users" {
				t.Errorf("next=%q: sign-in went to %q, want /users", next, res.header.Get("Location"))
			}
		}
		b := e.signedIn()
		if res := b.get("/signin?next=%2F%09%2Fevil.example"); res.header.Get("Location") != "/users" {
			t.Errorf("signed in, next=/<tab>/evil.example goes to %q", res.header.Get("Location"))
		}

		res := b.get("/users?done=Your+session+expired,+sign+in+at+https://evil.example")
		if strings.Contains(string(res.body), "evil.example") {
			t.Error("a page shows the ?done= text of a link")
		}
		if res.header.Get("X-Frame-Options") != "DENY" || !strings.Contains(res.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("pages can be framed: %v", res.header)
		}
		saved := b.post("/settings", url.Values{"name": {"  Acme Corp "}, "time_zone": {"UTC"}, "sync_schedule": {"0 2 * * *"}, "archive_threshold_percent": {"10"}, "archive_threshold_min": {"5"}})
		wantStatus(t, "save settings", saved, http.StatusSeeOther)
		wantText(t, "the confirmation, once", b.get("/settings"), "Settings saved.")
		if o, err := e.svc.SettingsGet(context.Background(), e.org.ID); err != nil || o.Name != "Acme Corp" {
			t.Errorf("the name typed with spaces around it was saved as %q (%v)", o.Name, err)
		}
		if again := b.get("/settings"); strings.Contains(string(again.body), "Settings saved.") {
			t.Error("the confirmation shows again on the next load")
		}

		big := strings.NewReader("email=" + strings.Repeat("a", 1<<20))
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/signin", big)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res := e.browser().send(req); res.status == http.StatusSeeOther || res.status >= 500 {
			t.Errorf("a 1 MiB sign-in form = %d, want it refused", res.status)
		}

		// The session ends while the held sync's page is open.
		ended := e.browser()
		res = ended.post("/imports/imp_x/approve", url.Values{"checked": {"true"}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/signin?ended=1&next=%2Fimports%2Fimp_x" {
			t.Fatalf("a form after the session ended = %d → %q", res.status, res.header.Get("Location"))
		}
		wantText(t, "the sign-in page after a session ended", ended.get(res.header.Get("Location")),
			"Your session ended, so the form you sent was not saved.", `name="next" value="/imports/imp_x"`)

		wantStatus(t, "GET of a form's action", b.get("/imports/imp_x/approve"), http.StatusMethodNotAllowed)
		wantText(t, "GET of a form's action", b.get("/imports/imp_x/approve"), "This address is an action of a form, not a page.")
		wantStatus(t, "the static directory", b.get("/static/"), http.StatusNotFound)
	})
}

// TestPagesShowTimesInTheOrganisationsTimeZone: an admin in New York reads
// the times of an import in New York time, not in the server's.
func TestPagesShowTimesInTheOrganisationsTimeZone(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		tz := "America/New_York"
		if _, err := e.svc.SettingsUpdate(context.Background(), importer.SettingsUpdateParams{OrgID: e.org.ID, TimeZone: &tz}); err != nil {
			t.Fatal(err)
		}
		ny, err := time.LoadLocation(tz)
		if err != nil {
			t.Fatal(err)
		}
		id := e.importFile(seedRows(1, 2))
		zone := time.Now().In(ny).Format("MST") // EST or EDT
		wantText(t, "the import's times", e.signedIn().get("/imports/"+id), " "+zone+"</dd>")
	})
}
