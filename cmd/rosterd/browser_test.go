package main_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"rosterd/csvfile/officetest"
	"rosterd/layers"
	"rosterd/layers/layerstest"
	"rosterd/store"
)

// chromiumPath finds the browser the page tests drive: ROSTERD_TEST_CHROMIUM,
// or Debian's chromium. Without one the test fails saying how to install it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs Chromium (real processes)")
	}
	if p := os.Getenv("ROSTERD_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the back-office browser test needs Chromium: apt-get install -y chromium (or set ROSTERD_TEST_CHROMIUM to a Chrome binary)")
	return ""
}

// chrome is one headless Chromium with one tab.
type chrome struct {
	t     *testing.T
	ctx   context.Context
	shots string // where screenshots go

	mu         sync.Mutex
	violations []string // what the browser refused under the pages' Content-Security-Policy
}

// noViolations fails the test if the browser refused anything a page asked
// for under its Content-Security-Policy (an inline script, style or event
// handler): the page would be broken for every user.
func (b *chrome) noViolations() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, v := range b.violations {
		b.t.Errorf("Content-Security-Policy violation: %s", v)
	}
}

// newChrome starts a headless Chromium with its own empty profile, the
// flags this sandbox needs (root: no sandbox; a closed network: no
// background traffic), at a desktop window size.
// Screenshots go to ROSTERD_SCREENSHOT_DIR (make screenshots: docs/) from
// the SQLite run, the one `make run` gives; elsewhere to a temporary dir.
func newChrome(t *testing.T, c *cli) *chrome {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("start Chromium: %v", err)
	}
	b := &chrome{t: t, ctx: ctx}
	// The browser logs each refusal of the policy ("Refused to execute
	// inline script because it violates the following Content Security
	// Policy directive …").
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && strings.Contains(e.Entry.Text, "Content Security Policy") {
			b.mu.Lock()
			b.violations = append(b.violations, e.Entry.URL+": "+e.Entry.Text)
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("ROSTERD_SCREENSHOT_DIR")
	if shots == "" || c.dialect != store.SQLite {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	b.shots = shots
	return b
}

// run performs actions, failing the test after a minute.
func (b *chrome) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.where())
	}
}

// get runs one action that returns a value.
func get[T any](b *chrome, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.where())
	}
	return v
}

// where says which page the browser is on and what it shows, for a failure.
func (b *chrome) where() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	url, _ := chromedp.Run(ctx, chromedp.Location())
	p, _ := chromedp.Run(ctx, bodyText)
	return "at " + url + " the page shows:\n" + p.Text
}

// page is what a page shows (innerText, what chromedp.Text reads), once it
// has loaded.
type page struct {
	Loaded bool   `json:"loaded"`
	Text   string `json:"text"`
}

// bodyText reads the page by evaluating it in the page, not through a DOM
// node's id: right after a page loaded itself again (the import page at an
// import's end), chromedp may still hold the old document's node ids, and
// reading by id then fails with "No node with given id found".
var bodyText = chromedp.Evaluate[page](`({loaded: document.readyState === "complete" && !!document.body,
	text: document.body ? document.body.innerText : ""})`)

// text is what the page shows, as a user reads it. A page still loading,
// or replaced while it is read (its script reloading it), is read again
// every 100 ms for up to 10 s.
func (b *chrome) text() string {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		p, err := chromedp.Run(ctx, bodyText)
		cancel()
		if err == nil && p.Loaded {
			return p.Text
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("read the page: loaded %v, %v\n%s", p.Loaded, err, b.where())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wantText fails unless the page shows every text.
func (b *chrome) wantText(what string, texts ...string) {
	b.t.Helper()
	page := b.text()
	for _, s := range texts {
		if !strings.Contains(page, s) {
			b.t.Fatalf("%s: the page does not show %q; it shows:\n%s", what, s, page)
		}
	}
}

// waitText waits until the page shows text.
func (b *chrome) waitText(what, text string) {
	b.t.Helper()
	b.waitFor(what, `document.body && document.body.innerText.includes(`+jsString(text)+`)`)
}

// waitFor waits until the JavaScript condition holds on the page. Pages
// change by themselves (live progress, then a reload at the end) and a
// submitted form loads a new page, so the browser is asked again every
// 100 ms, across page loads, for up to 50 s: no fixed sleep.
func (b *chrome) waitFor(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(50 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		// Only a page that has arrived whole: a page still loading can
		// show its first lines (the outcome's "Succeeded") before the rest
		// (the list of phases under it) is there to read.
		found, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.readyState === "complete" && (`+cond+`)`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(3*time.Second)))
		cancel()
		if err == nil && found {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: never true on the page: %s (last: %v)\n%s", what, cond, err, b.where())
		}
	}
}

// shot saves a full-page PNG screenshot named name.png.
func (b *chrome) shot(name string) {
	b.t.Helper()
	png := get(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if len(png) < 1000 || string(png[1:4]) != "PNG" {
		b.t.Fatalf("screenshot %s is not a PNG (%d bytes)", name, len(png))
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// demoCredentials reads the admin's password out of `rosterd demo`'s output.
func demoCredentials(t *testing.T, out string) (email, password string) {
	t.Helper()
	m := regexp.MustCompile(`back-office admin\s+(\S+) / (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("rosterd demo printed no admin credentials:\n%s", out)
	}
	return m[1], m[2]
}

// browserRoster is n users E1..En for the demo organisation, E13 to E15
// managed by E12; bad maps a row number to the cells that make it fail
// (up to the manager, which follows).
func browserRoster(n int, bad map[int]string) string {
	var b strings.Builder
	b.WriteString("external_id;first_name;last_name;country;preferred_language;business_email;department_en;department_nl;job_title_en;manager\n")
	for i := 1; i <= n; i++ {
		row := fmt.Sprintf("E%d;First%d;Last%d;BE;nl;e%d@example.com;Sales;Verkoop;Account manager", i, i, i, i)
		if cells, ok := bad[i]; ok {
			row = fmt.Sprintf("E%d;First%d;Last%d;%s", i, i, i, cells)
		}
		manager := ""
		if i >= 13 && i <= 15 {
			manager = "E12"
		}
		b.WriteString(row + ";" + manager + "\n")
	}
	return b.String()
}

// userStatus is the stored status of one user of org ("" if none).
func (c *cli) userStatus(org, externalID string) string {
	c.t.Helper()
	db := c.db()
	var st string
	err := db.Get(&st, db.Rebind(`SELECT u.status FROM users u JOIN organisations o ON o.id = u.org_id WHERE o.slug = ? AND u.external_id = ?`), org, externalID)
	if err != nil {
		c.t.Fatalf("status of %s: %v", externalID, err)
	}
	return st
}

// importIDOf is the import id in a back-office URL (/imports/imp_…).
func importIDOf(t *testing.T, url string) string {
	t.Helper()
	m := regexp.MustCompile(`/imports/(imp_[0-9a-z]+)`).FindStringSubmatch(url)
	if m == nil {
		t.Fatalf("not an import page: %s", url)
	}
	return m[1]
}

// TestBackOfficeInABrowser drives the back office of a real daemon, set up
// as `make run` does, in headless Chromium, as an admin would: sign in,
// upload a file with two bad rows and watch it end on its own, download the
// errors CSV, fix it and upload it again, look up a user who manages others
// and archive them (the confirmation names their reports) and restore them,
// approve a held full sync queued from the command line, and change a
// setting. Each page is photographed (make screenshots: docs/).
func TestBackOfficeInABrowser(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		out := c.ok("demo")
		if !strings.Contains(out, "back office         http://") {
			t.Fatalf("rosterd demo does not print the back office's address:\n%s", out)
		}
		email, password := demoCredentials(t, out)
		d := c.serve()
		base := d.httpAddr()
		b := newChrome(t, c)

		b.run("open the back office", chromedp.Navigate(base+"/"))
		b.wantText("the sign-in page", "Sign in to rosterd", "E-mail", "Password")
		b.shot("signin")
		b.run("sign in",
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Submit(chromedp.ID("password")),
			chromedp.WaitVisible(chromedp.CSS("header.top")))
		b.wantText("signed in", "Demo Company", "Users", "Imports", "Settings")

		// Actions → Upload users, a file with two bad rows.
		b.run("open Actions → Upload users",
			chromedp.Click(chromedp.CSS("details.menu summary")),
			chromedp.Click(chromedp.CSS(`details.menu a[href="/upload"]`)),
			chromedp.WaitVisible(chromedp.ID("file")))
		b.wantText("the upload page", "Upload users", "Dry run", "Download template")
		b.shot("upload")
		first := c.write("first.csv", browserRoster(20, map[int]string{
			4: "XX;nl;e4@example.com;Sales;Verkoop;Account manager",        // no such country
			9: "BE;nl;not-an-e-mail-address;Sales;Verkoop;Account manager", // not an e-mail address
		}))
		b.run("upload the file",
			chromedp.SetUploadFiles(chromedp.ID("file"), []string{first}),
			chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
		b.waitText("the import page follows the import to its end", "Completed with errors")
		b.wantText("the outcome", "18\ncreated", "2\nfailed", "Download errors CSV")
		// The failed rows are listed on the page, each with its line and
		// every message, and the users it created after them.
		b.wantText("the failed rows", "Failed (2)", "Created (18)", "First4 Last4", "First9 Last9",
			`country: "XX" is not an ISO 3166-1 alpha-2 country code`,
			`business_email: "not-an-e-mail-address" is not a valid e-mail address`)
		b.shot("import-completed-with-errors")
		firstID := importIDOf(t, get(b, "where", chromedp.Location()))

		name, errorsCSV := b.download("download the errors CSV", chromedp.Click(chromedp.CSS(`a[href$="/errors.csv"]`)))
		if name != firstID+".csv" {
			t.Errorf("the errors CSV downloads as %q, want %s.csv", name, firstID)
		}
		lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(errorsCSV, "\ufeff")), "\n")
		if len(lines) != 3 || !strings.HasSuffix(strings.TrimSpace(lines[0]), ";errors") ||
			!strings.HasPrefix(lines[1], "E4;") || !strings.HasPrefix(lines[2], "E9;") {
			t.Fatalf("errors CSV: want the header with errors and the rows of E4 and E9, got:\n%s", errorsCSV)
		}

		// Fix the two cells in the downloaded file and upload it as it is.
		fixed := strings.Replace(strings.Replace(errorsCSV, ";XX;", ";BE;", 1), "not-an-e-mail-address", "e9@example.com", 1)
		b.run("upload the fixed file",
			chromedp.Navigate(base+"/upload"),
			chromedp.SetUploadFiles(chromedp.ID("file"), []string{c.write(firstID+".csv", fixed)}),
			chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
		b.waitText("the fixed file is imported", "Succeeded")
		b.wantText("the fixed file's outcome", "2\ncreated", "0\nfailed")
		b.shot("import-succeeded")

		// Look a user up, archive them and restore them, each confirmed.
		b.run("open the users",
			chromedp.Click(chromedp.CSS(`header nav a[href="/users"]`)),
			chromedp.WaitVisible(chromedp.ID("q")))
		b.wantText("the users", "E1", "First1 Last1", "E20")
		b.shot("users")
		b.run("search for FIRST12",
			chromedp.SendKeys(chromedp.ID("q"), "FIRST12"),
			chromedp.Submit(chromedp.ID("q")))
		b.waitFor("the search's answer", `document.readyState === "complete" && location.search.includes("q=FIRST12")`)
		if page := b.text(); strings.Contains(page, "First11") {
			t.Fatalf("the search for FIRST12 lists First11 too:\n%s", page)
		}
		b.run("open E12", chromedp.Click(chromedp.CSS(`a[href="/users/E12"]`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/users/E12/archive"]`)))
		b.wantText("the user's page", "First12", "e12@example.com", "Verkoop", "Account manager")
		b.shot("user")
		b.run("archive E12…", chromedp.Click(chromedp.CSS(`a[href="/users/E12/archive"]`)), chromedp.WaitVisible(chromedp.CSS(`main form button[type=submit]`)))
		b.wantText("the confirmation", "Archive First12 Last12 (E12)",
			"First12 Last12 (E12) manages 3 users: First13 Last13 (E13), First14 Last14 (E14), First15 Last15 (E15).")
		b.shot("user-archive-confirm")
		if st := c.userStatus("demo", "E12"); st != store.StatusActive {
			t.Fatalf("E12 is %s before the archive was confirmed", st)
		}
		b.run("confirm", chromedp.Click(chromedp.CSS(`main form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/users/E12/restore"]`)))
		b.wantText("archived", "archived")
		if st := c.userStatus("demo", "E12"); st != store.StatusArchived {
			t.Fatalf("E12 is %s after the archive, want archived", st)
		}
		b.run("restore E12", chromedp.Click(chromedp.CSS(`a[href="/users/E12/restore"]`)),
			chromedp.Click(chromedp.CSS(`main form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/users/E12/archive"]`)))
		if st := c.userStatus("demo", "E12"); st != store.StatusActive {
			t.Fatalf("E12 is %s after the restore, want active", st)
		}

		// Settings: a bad time zone is refused beside its field, a good one saved.
		b.run("open the settings", chromedp.Click(chromedp.CSS(`header nav a[href="/settings"]`)), chromedp.WaitVisible(chromedp.ID("time_zone")))
		b.shot("settings")
		b.run("enter a time zone that does not exist",
			chromedp.SetValue(chromedp.ID("time_zone"), "Mars/Olympus"),
			chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#time_zone[aria-invalid="true"]`)))
		b.wantText("the refused time zone", "Mars/Olympus")
		b.shot("settings-error")
		b.run("enter Europe/Paris",
			chromedp.SetValue(chromedp.ID("time_zone"), "Europe/Paris"),
			chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
		b.waitText("the settings are saved", "Settings saved.")
		if out := c.ok("org", "list"); !strings.Contains(out, "Europe/Paris") {
			t.Fatalf("the saved time zone is not the organisation's:\n%s", out)
		}

		// The PGP settings: a signature required without the HR system's
		// key is refused beside its box; with the key pasted, encryption
		// required and the errors file no longer attached, saved, and the
		// page describes both keys.
		c.ok("pgp-key", "create", "--org", "demo")
		hr, err := layers.NewKey("HR system", "hr@demo.example", layerstest.KeyBits)
		if err != nil {
			t.Fatal(err)
		}
		hrPub, err := layers.ArmorPublic(hr)
		if err != nil {
			t.Fatal(err)
		}
		b.run("open the settings again", chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(chromedp.ID("sender_pgp_key")))
		b.wantText("the organisation's own key", "The organisation's public key, which the HR system encrypts to:", "Download the public key")
		b.run("require signatures without a sender key",
			chromedp.Click(chromedp.ID("require_signature")),
			chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#require_signature[aria-invalid="true"]`)))
		b.wantText("the refused signature", "needs sender_pgp_key")
		b.run("paste the HR system's key, require encryption, stop attaching errors files",
			chromedp.SetValue(chromedp.ID("sender_pgp_key"), hrPub),
			chromedp.Click(chromedp.ID("require_encryption")),
			chromedp.Click(chromedp.ID("attach_errors")),
			chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
		b.waitText("the PGP settings are saved", "Settings saved.")
		fpr := layers.Fingerprint(hr)
		b.wantText("the sender key described", "In force: "+fpr[:4]+" "+fpr[4:8], "HR system (rosterd) <hr@demo.example>")
		o, err := store.OrgGetBySlug(context.Background(), c.db(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		if !o.RequireEncryption || !o.RequireSignature || o.AttachErrors || strings.TrimSpace(o.SenderPGPKey) != strings.TrimSpace(hrPub) {
			t.Fatalf("saved: require_encryption %v, require_signature %v, attach_errors %v, sender key %q",
				o.RequireEncryption, o.RequireSignature, o.AttachErrors, o.SenderPGPKey)
		}
		b.run("show the PGP part", chromedp.ScrollIntoView(chromedp.ID("encryption")))
		b.shot("settings-pgp")
		// Back to clear-text rosters for the command-line syncs below.
		c.ok("org", "update", "demo", "--require-encryption=false", "--require-signature=false", "--attach-errors=true")

		// A full sync queued from the command line that would archive 15
		// of 20: held, shown, approved from the page.
		held := strings.TrimSpace(c.ok("import", "--org", "demo", "--mode", "full", "--detach", c.write("full.csv", browserRoster(5, nil))))
		b.run("open the held sync", chromedp.Navigate(base+"/imports/"+held))
		b.waitText("the held sync's page", "Who it would archive (15)")
		b.wantText("the held sync", "E20", "I have checked the list", "Download all as CSV")
		b.shot("import-held")
		b.run("open the imports", chromedp.Navigate(base+"/imports"))
		b.wantText("the history", "full.csv", firstID+".csv", "first.csv")
		b.shot("imports")
		b.run("approve the held sync",
			chromedp.Navigate(base+"/imports/"+held),
			chromedp.Click(chromedp.ID("checked")),
			chromedp.Click(chromedp.CSS(`button.danger`)))
		b.waitText("the approved sync is applied", "Succeeded")
		b.wantText("the approved sync's outcome", "15\narchived")
		if st := c.userStatus("demo", "E20"); st != store.StatusArchived {
			t.Fatalf("E20 is %s after the approved sync, want archived", st)
		}
		// Its page names whom it archived, and who approved it.
		b.wantText("the archived users by name", "Archived (15)", "First6 Last6", "First20 Last20", "Approved by "+email+" at ")
		b.shot("import-changes")

		// E12's history, newest first: archived by the sync, restored and
		// archived by hand, created by the first upload.
		b.run("open E12's page", chromedp.Navigate(base+"/users/E12"), chromedp.WaitVisible(chromedp.ID("history")))
		b.wantText("E12's history", "History", "import "+held, "Restored\tby hand", "Archived\tby hand", "import "+firstID)
		if page := b.text(); !(strings.Index(page, "import "+held) < strings.Index(page, "Restored\tby hand") &&
			strings.Index(page, "Archived\tby hand") < strings.Index(page, "import "+firstID)) {
			t.Fatalf("E12's history is not newest first:\n%s", page)
		}
		b.run("scroll to the history", chromedp.ScrollIntoView(chromedp.ID("history")))
		b.shot("user-history")

		// A workbook uploaded as it is: the roster saved as .xlsx by
		// LibreOffice, one good row with accents and one bad row.
		book := officetest.CSVToXLSX(t, []byte("external_id;first_name;last_name;country;preferred_language;business_email;department_en\n"+
			"E30;Zoë;Müller-Lüdenscheid;BE;nl;e30@example.com;Ventes & Marketing\n"+
			"E31;Ana;García;XX;nl;e31@example.com;Sales\n"))
		b.run("upload a workbook",
			chromedp.Navigate(base+"/upload"),
			chromedp.SetUploadFiles(chromedp.ID("file"), []string{c.write("roster.xlsx", string(book))}),
			chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
		b.waitText("the workbook is imported", "Completed with errors")
		b.wantText("the workbook's outcome", "1\ncreated", "1\nfailed", "Zoë Müller-Lüdenscheid", "Ana García",
			`country: "XX" is not an ISO 3166-1 alpha-2 country code`, "Download errors CSV")
		b.shot("import-xlsx")

		// At phone width.
		b.run("a phone's screen", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile),
			chromedp.Navigate(base+"/imports/"+firstID), chromedp.WaitVisible(chromedp.CSS("header.top")))
		b.shot("phone-import")
		b.run("the users on a phone", chromedp.Navigate(base+"/users?status=all"), chromedp.WaitVisible(chromedp.ID("q")))
		b.shot("phone-users")
		b.noViolations()
	})
}

// download clicks the link sel and waits for the browser to save the file;
// it returns the name the browser was given (Content-Disposition) and the
// file's content.
func (b *chrome) download(what string, sel chromedp.Action[chromedp.Void]) (string, string) {
	b.t.Helper()
	dir := b.t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, EventsEnabled: new(true)}); err != nil {
		b.t.Fatalf("%s: allow downloads: %v", what, err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	begins := chromedp.BrowserEvents(ctx, browser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	b.run(what, sel)
	var name, guid string
	for ev, err := range begins {
		if err != nil {
			b.t.Fatalf("%s: no download began: %v\n%s", what, err, b.where())
		}
		name, guid = ev.SuggestedFilename, ev.GUID
		break
	}
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("%s: the download did not complete: %v", what, err)
		}
		if ev.GUID != guid {
			continue
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			b.t.Fatalf("%s: the download was cancelled", what)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	content, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return name, string(content)
}
