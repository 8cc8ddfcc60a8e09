package httpd_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// rowLinks are the user pages the users table links to, in order.
var rowLinks = regexp.MustCompile(`<td><a href="/users/([^"]+)">`)

func listedIDs(t *testing.T, res response) []string {
	t.Helper()
	ids := []string{}
	for _, m := range rowLinks.FindAllStringSubmatch(string(res.body), -1) {
		id, err := url.PathUnescape(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// nextLink is the href of the "Next page" link, "" when there is none.
func nextLink(res response) string {
	m := regexp.MustCompile(`<a href="([^"]+)" rel="next">Next page</a>`).FindSubmatch(res.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(string(m[1]))
}

// importAs imports content for org (as other's token when it is other),
// processed here as a daemon's worker would.
func (e *apiEnv) importAs(org *store.Org, token, content string) {
	e.t.Helper()
	res := e.upload(token, formPart{name: "file", fileName: "roster.csv", content: content})
	wantStatus(e.t, "upload", res, http.StatusAccepted)
	id := res.json(e.t)["id"].(string)
	if _, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: org.ID, ID: id}); err != nil {
		e.t.Fatalf("process %s: %v", id, err)
	}
}

func (e *apiEnv) userStatus(org *store.Org, id string) string {
	e.t.Helper()
	u, err := e.svc.UserGet(context.Background(), importer.UserRef{OrgID: org.ID, ExternalID: id})
	if err != nil {
		e.t.Fatalf("user %s: %v", id, err)
	}
	return u.Status
}

// The users list: an empty roster says how to fill it; search ignores
// accents and case; the filter shows active users unless asked; a search
// that misses says so (not "no users"); pages follow the opaque cursor
// with the search and filter kept.
func TestUsersPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()

		for _, path := range []string{"/users", "/users?q=anna", "/users?status=archived"} {
			res := b.get(path)
			wantStatus(t, path, res, http.StatusOK)
			wantText(t, path+" on an empty roster", res, "No users yet — upload a CSV", `<a href="/upload">Upload users</a>`,
				`<label for="q">Search</label>`, `<label for="status">Status</label>`)
		}

		e.importFile(header +
			"E1;Élise;Dupont;FR;fr;elise@example.com;Ventes;;\n" +
			"E2;Anna;Maxbeth;BE;nl;anna@example.com;;Verkoop;\n" +
			"E3;Anna;Ma_beth;BE;nl;anna.m@example.com;;;\n" +
			"E4;Bo;Jansen;BE;nl;bo@example.com;Sales;Verkoop;\n" +
			"E5;Zoë;Peeters;BE;nl;zoe@example.com;;;\n")
		if _, err := e.svc.UserArchive(context.Background(), importer.UserRef{OrgID: e.org.ID, ExternalID: "E2"}); err != nil {
			t.Fatal(err)
		}

		res := b.get("/users")
		wantStatus(t, "users", res, http.StatusOK)
		if got := listedIDs(t, res); !slices.Equal(got, []string{"E1", "E3", "E4", "E5"}) {
			t.Fatalf("the list shows %v, want the active users", got)
		}
		wantText(t, "users", res, "Élise Dupont", "elise@example.com", `<span class="badge active">Active</span>`,
			"Ventes", "Verkoop", // E4 reads Dutch
			`<option value="active" selected>Active</option>`)

		for q, want := range map[string][]string{
			"ELISE": {"E1"}, "élise": {"E1"}, "dupont": {"E1"}, "ZOE": {"E5"}, "e4": {"E4"}, "anna": {"E3"}, "a_b": {"E3"},
		} {
			res := b.get("/users?q=" + url.QueryEscape(q))
			if got := listedIDs(t, res); !slices.Equal(got, want) {
				t.Errorf("search %q shows %v, want %v", q, got, want)
			}
			wantText(t, "search "+q, res, `value="`+html.EscapeString(q)+`"`)
		}
		for query, want := range map[string][]string{
			"?status=archived": {"E2"}, "?status=all&q=anna": {"E2", "E3"}, "?status=archived&q=anna": {"E2"},
		} {
			res := b.get("/users" + query)
			if got := listedIDs(t, res); !slices.Equal(got, want) {
				t.Errorf("%s shows %v, want %v", query, got, want)
			}
		}
		wantText(t, "archived filter", b.get("/users?status=archived"), `<span class="badge archived">Archived</span>`,
			`<option value="archived" selected>Archived</option>`)

		miss := b.get("/users?q=maxbeth") // archived: not among the active
		wantStatus(t, "search that misses", miss, http.StatusOK)
		wantText(t, "search that misses", miss, "No active user matches “maxbeth”.",
			`<a href="/users?q=maxbeth&amp;status=all">Search all users, archived included</a>`)
		if strings.Contains(string(miss.body), "No users yet") {
			t.Error("a search that misses says there are no users")
		}
		wantText(t, "nothing archived matches", b.get("/users?status=archived&q=zzz"), "No archived user matches “zzz”.")

		// Two pages of three, following the link as a browser would.
		first := b.get("/users?q=example.com&status=all&limit=3")
		if got := listedIDs(t, first); !slices.Equal(got, []string{"E1", "E2", "E3"}) {
			t.Fatalf("page 1 = %v", got)
		}
		next := nextLink(first)
		u, err := url.Parse(next)
		if err != nil || u.Path != "/users" || u.Query().Get("q") != "example.com" || u.Query().Get("status") != "all" ||
			u.Query().Get("limit") != "3" || u.Query().Get("cursor") == "" {
			t.Fatalf("the next page link is %q, want the search, filter and limit kept with a cursor", next)
		}
		second := b.get(next)
		if got := listedIDs(t, second); !slices.Equal(got, []string{"E4", "E5"}) {
			t.Fatalf("page 2 = %v", got)
		}
		if nextLink(second) != "" {
			t.Fatalf("the last page links to another: %s", second.body)
		}
		wantText(t, "page 2", second, `<a href="/users?limit=3&amp;q=example.com&amp;status=all">First page</a>`)

		bad := b.get("/users?status=gone")
		wantStatus(t, "bad status", bad, http.StatusBadRequest)
		wantText(t, "bad status", bad, "is not a user status; use active, archived or all", `id="status" name="status" aria-invalid="true"`)
		wantStatus(t, "bad cursor", b.get("/users?cursor=!!"), http.StatusBadRequest)
	})
}

// A user's page shows every field: plain ones with their column names,
// localised ones per language, tags per language, the manager as a link;
// an unknown user or another organisation's answers the not-found page.
// Ids that need escaping in a path (a slash, a space) work throughout.
func TestUserPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		e.importFile("external_id;first_name;last_name;country;preferred_language;business_email;business_mobile_phone;manager;department_en;department_nl;job_title_fr;tags_en;tags_nl\n" +
			"E1;Jane;Doe;BE;nl;jane@example.com;0470 12 34 56;;Sales;Verkoop;Vendeuse;team:Blue,level:Senior;team:Blauw,level:Senior\n" +
			"HR/7 b;Piet;<b>Bold</b>;BE;nl;piet@example.com;;E1;;;;;\n")
		e.importAs(e.other, e.otherToken, header+"O1;Olga;Other;BE;nl;olga@example.com;;;\n")

		res := b.get("/users/E1")
		wantStatus(t, "user page", res, http.StatusOK)
		wantText(t, "user page", res, "<title>Jane Doe (E1) · rosterd</title>",
			"First name <code class=\"muted\">first_name</code>", "Business e-mail <code class=\"muted\">business_email</code>",
			"jane@example.com", "&#43;32470123456", // html/template writes + as &#43; "Default site <code class=\"muted\">default_site</code>",
			`<th scope="col" lang="en">en</th>`, `<th scope="col" lang="nl">nl</th>`, `<th scope="col" lang="fr">fr</th>`,
			"Department <code class=\"muted\">department_&lt;lang&gt;</code>", `<td lang="en">Sales</td>`, `<td lang="nl">Verkoop</td>`,
			`<td lang="fr">Vendeuse</td>`,
			`<th scope="row">team</th><td lang="en">Blue</td><td lang="nl">Blauw</td>`,
			`<th scope="row">level</th><td lang="en">Senior</td><td lang="nl">Senior</td>`,
			`<span class="badge active">Active</span>`, "Created", "Last change",
			`<a class="button danger" href="/users/E1/archive">Archive user…</a>`)

		list := b.get("/users?q=piet")
		if got := listedIDs(t, list); !slices.Equal(got, []string{"HR/7 b"}) {
			t.Fatalf("search piet = %v", got)
		}
		wantText(t, "escaped id in the list", list, `href="/users/HR%2F7%20b"`, "Piet &lt;b&gt;Bold&lt;/b&gt;")
		odd := b.get("/users/HR%2F7%20b")
		wantStatus(t, "user with a slash in the id", odd, http.StatusOK)
		wantText(t, "user with a slash in the id", odd, "<dd>HR/7 b</dd>", `<a href="/users/E1">E1</a>`,
			"Piet &lt;b&gt;Bold&lt;/b&gt;", "No tags.", "No department, division",
			`href="/users/HR%2F7%20b/archive"`)
		if strings.Contains(string(odd.body), "<b>Bold</b>") {
			t.Error("a user's value is written as HTML")
		}

		for _, path := range []string{"/users/E99", "/users/O1"} {
			res := b.get(path)
			wantStatus(t, path, res, http.StatusNotFound)
			wantText(t, path, res, "<title>Not found · rosterd</title>")
			if strings.Contains(string(res.body), "Olga") {
				t.Fatalf("%s shows another organisation's user", path)
			}
		}
	})
}

// TestArchiveConfirmationCountsWithSeparators: a manager of thousands is
// said to manage "1,204 users", with the separator every other count has.
func TestArchiveConfirmationCountsWithSeparators(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		var rows strings.Builder
		rows.WriteString("external_id;first_name;last_name;country;preferred_language;business_email;manager\n")
		rows.WriteString("E1;Jane;Doe;BE;nl;jane@example.com;\n")
		for i := 1; i <= 1204; i++ {
			fmt.Fprintf(&rows, "R%d;Rep;Nr%d;BE;nl;r%d@example.com;E1\n", i, i, i)
		}
		e.importFile(rows.String())
		ask := b.get("/users/E1/archive")
		wantStatus(t, "archive confirmation", ask, http.StatusOK)
		wantText(t, "archive confirmation", ask, `<strong>Jane Doe (E1) manages 1,204 users:</strong>`, ` and 1,199 more.`)
	})
}

// Archive and restore by hand: a confirmation page first (a GET changes
// nothing), then the POST does it and comes back to the user with a
// notice; a second click says the user is so already; an unknown action
// or another organisation's user answers 404 and changes nothing.
func TestUserArchiveRestorePages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		e.importFile(header + "E1;Jane;Doe;BE;nl;jane@example.com;;;\nHR/7;Piet;Jansen;BE;nl;piet@example.com;;;\n")
		e.importAs(e.other, e.otherToken, header+"O1;Olga;Other;BE;nl;olga@example.com;;;\n")
		// Jane manages seven users: the confirmation names the first five.
		reports := "external_id;first_name;last_name;country;preferred_language;business_email;manager\n"
		for i := 1; i <= 7; i++ {
			reports += fmt.Sprintf("R%d;Rep;Nr%d;BE;nl;r%d@example.com;E1\n", i, i, i)
		}
		e.importFile(reports)

		ask := b.get("/users/E1/archive")
		wantStatus(t, "archive confirmation", ask, http.StatusOK)
		wantText(t, "archive confirmation", ask, "Archive Jane Doe (E1)?", "You can restore them later",
			`<form method="post" action="/users/E1/archive"`, `<button type="submit" class="danger">Archive Jane Doe (E1)</button>`,
			`<a href="/users/E1">Cancel</a>`,
			`<strong>Jane Doe (E1) manages 7 users:</strong>`,
			`<a href="/users/R1">Rep Nr1 (R1)</a>, <a href="/users/R2">Rep Nr2 (R2)</a>`,
			`<a href="/users/R5">Rep Nr5 (R5)</a> and 2 more.`,
			"They keep Jane Doe (E1) as their manager once archived")
		if strings.Contains(string(b.get("/users/HR%2F7/archive").body), "manages") {
			t.Error("the archive confirmation of a user who manages nobody says they manage users")
		}
		if got := e.userStatus(e.org, "E1"); got != store.StatusActive {
			t.Fatalf("the confirmation page changed E1 to %s", got)
		}

		res := b.post("/users/E1/archive", nil)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/users/E1" {
			t.Fatalf("archive = %d → %q, want 303 to the user's page", res.status, res.header.Get("Location"))
		}
		if got := e.userStatus(e.org, "E1"); got != store.StatusArchived {
			t.Fatalf("after archive E1 is %s", got)
		}
		after := b.get(res.header.Get("Location"))
		wantText(t, "after archive", after, `<p class="notice" role="status">Jane Doe (E1) archived.</p>`,
			`<span class="badge archived">Archived</span>`, `<a class="button" href="/users/E1/restore">Restore user…</a>`)
		if strings.Contains(string(after.body), "Archive user…") {
			t.Error("an archived user's page offers to archive them")
		}

		again := b.post("/users/E1/archive", nil)
		wantStatus(t, "archive twice", again, http.StatusConflict)
		wantText(t, "archive twice", again, "Jane Doe (E1) is archived already", "Restore user…")
		wantText(t, "archive confirmation of an archived user", b.get("/users/E1/archive"), "Jane Doe (E1) is archived already.")

		wantText(t, "restore confirmation", b.get("/users/E1/restore"), "Restore Jane Doe (E1)?", `action="/users/E1/restore"`)
		res = b.post("/users/E1/restore", nil)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/users/E1" {
			t.Fatalf("restore = %d → %q", res.status, res.header.Get("Location"))
		}
		if got := e.userStatus(e.org, "E1"); got != store.StatusActive {
			t.Fatalf("after restore E1 is %s", got)
		}
		wantText(t, "after restore", b.get(res.header.Get("Location")), "Jane Doe (E1) restored.", "Archive user…")

		// An id with a slash, through the escaped links.
		wantText(t, "archive HR/7", b.get("/users/HR%2F7/archive"), `action="/users/HR%2F7/archive"`)
		res = b.post("/users/HR%2F7/archive", nil)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/users/HR%2F7" {
			t.Fatalf("archive HR/7 = %d → %q", res.status, res.header.Get("Location"))
		}
		if got := e.userStatus(e.org, "HR/7"); got != store.StatusArchived {
			t.Fatalf("after archive HR/7 is %s", got)
		}

		for _, r := range []struct{ method, path string }{
			{"GET", "/users/E1/delete"}, {"POST", "/users/E1/delete"},
			{"GET", "/users/O1/archive"}, {"POST", "/users/O1/archive"}, {"POST", "/users/E99/archive"},
		} {
			var res response
			if r.method == "GET" {
				res = b.get(r.path)
			} else {
				res = b.post(r.path, nil)
			}
			wantStatus(t, r.method+" "+r.path, res, http.StatusNotFound)
			wantText(t, r.method+" "+r.path, res, "<title>Not found · rosterd</title>")
		}
		if got := e.userStatus(e.other, "O1"); got != store.StatusActive {
			t.Fatalf("acme's admin archived other's O1: %s", got)
		}
		if got := e.userStatus(e.org, "E1"); got != store.StatusActive {
			t.Fatalf("an unknown action changed E1: %s", got)
		}
	})
}

// An archive that meets an import being applied waits a moment, then
// shows the busy page with Retry-After, and changes nothing.
func TestUserArchivePageBusy(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db, importer.ServiceConfig{LockWait: 300 * time.Millisecond})
		b := e.signedIn()
		e.importFile(seedRows(1, 2))
		res := e.upload(e.token, formPart{name: "file", fileName: "rename.csv", content: "external_id;last_name\nE1;Renamed\n"})
		wantStatus(t, "upload", res, http.StatusAccepted)
		im, err := e.svc.ImportGet(context.Background(), importer.ImportRef{OrgID: e.org.ID, ID: res.json(t)["id"].(string)})
		if err != nil {
			t.Fatal(err)
		}
		letGo, done := importertest.RunPausedAtPlan(t, db, im)
		busy := b.post("/users/E2/archive", nil)
		wantStatus(t, "archive during an import", busy, http.StatusServiceUnavailable)
		if busy.header.Get("Retry-After") == "" {
			t.Error("no Retry-After on the busy page")
		}
		wantText(t, "archive during an import", busy, "an import of the organisation is being applied; try again in a few seconds")
		letGo()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := e.userStatus(e.org, "E2"); got != store.StatusActive {
			t.Fatalf("E2 after the busy archive: %s", got)
		}
	})
}
