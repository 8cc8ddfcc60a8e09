package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"rosterd/jobs"
	"rosterd/store"
)

// TestImportProgressInABrowser watches, in headless Chromium, the page of a
// 200,000-row upload to a real daemon, as an admin would, on both
// databases: it shows the import waiting, then reading, checking and
// saving, in that order and never back, with the figures moving while it
// checks and while it saves (on SQLite too, where the import holds the
// database's write lock meanwhile), and once it has ended, every phase of
// the run in order with its time.
func TestImportProgressInABrowser(t *testing.T) {
	t.Parallel()
	const rows = 200000
	eachDialectSideBySide(t, func(t *testing.T, c *cli) {
		began := time.Now()
		out := c.ok("demo")
		email, password := demoCredentials(t, out)
		// Every row but the first names a manager, so that the manager
		// and loop checks have 200,000 links to follow.
		var roster strings.Builder
		roster.WriteString("external_id;first_name;last_name;country;preferred_language;business_email;department_en;manager\n")
		for i := 1; i <= rows; i++ {
			manager := ""
			if i > 1 {
				manager = fmt.Sprintf("E%d", i/2)
			}
			fmt.Fprintf(&roster, "E%d;First%d;Last%d;BE;nl;e%d@example.com;Sales;%s\n", i, i, i, i, manager)
		}
		file := c.write("big.csv", roster.String())
		d := c.serve()
		base := d.httpAddr()
		b := newChrome(t, c)
		b.run("sign in", chromedp.Navigate(base+"/signin"),
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Submit(chromedp.ID("password")),
			chromedp.WaitVisible(chromedp.CSS("header.top")))

		// An older import of the organisation that no worker runs keeps
		// the upload waiting its turn until it is cancelled, so that the
		// page is seen queued whatever the timing. Its job is scheduled an
		// hour ahead: an import with no live job is one the daemon's sweep
		// for orphans (importer.FailOrphans, every 10 s) ends, and on a
		// slow machine it ended this one before the upload was accepted,
		// which then never waited.
		ctx := context.Background()
		db := c.db()
		org, err := store.OrgGetBySlug(ctx, db, "demo")
		if err != nil {
			t.Fatal(err)
		}
		f, err := store.FileCreate(ctx, db, org.ID, "older.csv", strings.NewReader(browserRoster(1, nil)), 0)
		if err != nil {
			t.Fatal(err)
		}
		older := &store.Import{OrgID: org.ID, Door: store.DoorCLI, Mode: "partial", FileName: "older.csv",
			FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes}
		q, err := jobs.New(db, jobs.Params{})
		if err != nil {
			t.Fatal(err)
		}
		// The import and its job in one transaction, as a door records
		// them: the sweep for orphans, between the two, ended the import
		// as having no job ("cancel the older import: not found").
		if err := db.InTx(ctx, func(tx *sqlx.Tx) error {
			if err := store.ImportCreate(ctx, tx, older); err != nil {
				return err
			}
			_, err := q.InsertTx(ctx, tx.Tx, jobs.ImportArgs{ImportID: older.ID}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
			return err
		}); err != nil {
			t.Fatal(err)
		}

		b.run("upload 200,000 rows", chromedp.Navigate(base+"/upload"),
			chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}),
			chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
		// One condition, asked again across the live page's refreshes: read
		// once after the wait, the text was at times on a node the page had
		// just replaced ("No node with given id found").
		b.waitFor("the page shows the import waiting", `document.querySelector('[data-phase="queued"]') !== null &&
			document.body.innerText.includes("Waiting to start")`)
		url := get(b, "where", chromedp.Location())
		if err := store.ImportCancel(ctx, db, org.ID, older.ID, "test"); err != nil {
			t.Fatalf("cancel the older import: %v", err)
		}

		// Watch the page as it follows the import, until it reloads with
		// the outcome.
		type shown struct{ Phase, Figures, Bar string }
		var seen []shown
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			js := get(b, "read the phase", chromedp.Evaluate[string](`(function () {
				var el = document.querySelector('[data-import-live] [data-field="phase"]');
				if (!el) { return ""; }
				var f = document.querySelector('[data-field="figures"]');
				var bar = document.querySelector('[data-import-live] progress');
				return JSON.stringify({Phase: el.getAttribute("data-phase"), Figures: f ? f.textContent : "",
					Bar: !bar ? "" : bar.hasAttribute("value") ? bar.getAttribute("value") + "%" : "indeterminate"});
			})()`))
			if js == "" {
				break // the outcome
			}
			var s shown
			if err := json.Unmarshal([]byte(js), &s); err != nil {
				t.Fatal(err)
			}
			if len(seen) == 0 || seen[len(seen)-1] != s {
				seen = append(seen, s)
			}
			time.Sleep(50 * time.Millisecond) // the page's own pace is 250 ms; this samples it
		}
		b.waitText("the outcome", "Succeeded")

		order := []string{"queued", "reading", "checking", "saving", "finishing"}
		figures := map[string]map[string]bool{}
		var phases []string
		for i, s := range seen {
			if i > 0 && slices.Index(order, s.Phase) < slices.Index(order, seen[i-1].Phase) {
				t.Fatalf("the page went back from %s to %s: %v", seen[i-1].Phase, s.Phase, seen)
			}
			if figures[s.Phase] == nil {
				figures[s.Phase] = map[string]bool{}
				phases = append(phases, s.Phase)
			}
			figures[s.Phase][s.Figures] = true
		}
		for _, want := range order[:4] {
			if !slices.Contains(phases, want) {
				t.Errorf("the page never showed the phase %s; it showed %v", want, seen)
			}
		}
		// Checking has no total: its bar is indeterminate, not at 0%; saving
		// has one.
		for _, s := range seen {
			if indeterminate := s.Bar == "indeterminate"; indeterminate != (s.Phase == "checking") {
				t.Errorf("while %s (%s) the bar is %s", s.Phase, s.Figures, s.Bar)
			}
			if strings.Contains(s.Figures, " 1 checks") {
				t.Errorf("while %s the page says %q, want 1 check", s.Phase, s.Figures)
			}
		}
		for _, moving := range []string{"checking", "saving"} {
			if len(figures[moving]) < 2 {
				t.Errorf("while %s the figures did not move: %v", moving, figures[moving])
			}
		}

		// The outcome lists every phase of the run, in order.
		list := get(b, "the phases", chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-field="phases"] li')).map(function (li) { return li.getAttribute("data-phase"); }).join(" ")`))
		if list != "reading checking saving finishing done" {
			t.Errorf("the finished import lists the phases %q, want reading checking saving finishing done", list)
		}
		b.wantText("the outcome", "200,000\ncreated")
		b.noViolations()
		t.Logf("%s: %d rows in %s; the page showed %d states: %v, %d figures while checking, %d while saving (import %s)", c.dialect, rows,
			time.Since(began).Round(time.Second), len(seen), phases, len(figures["checking"]), len(figures["saving"]), importIDOf(t, url))
	})
}
