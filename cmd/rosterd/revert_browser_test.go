package main_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"rosterd/store"
)

// TestRevertInABrowser reverts an upload in the back office, as an admin
// would (issue 18 §7): the upload moves E1 from Sales to Marketing and
// creates E21; "Revert this import" on its page shows a preview that says
// so and lists what the revert would do (E1's department back, E21
// archived) without changing anyone; "Revert now" applies it, its page
// says which import it reverts, and E1's page shows Sales again with the
// revert in its history. Both pages are photographed (make screenshots).
func TestRevertInABrowser(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		email, password := demoCredentials(t, c.ok("demo"))
		// The roster before: E1..E20 in Sales, from the command line.
		c.ok("import", "--org", "demo", c.write("roster.csv", browserRoster(20, nil)))
		d := c.serve()
		base := d.httpAddr()
		b := newChrome(t, c)

		b.run("sign in",
			chromedp.Navigate(base+"/"),
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Submit(chromedp.ID("password")),
			chromedp.WaitVisible(chromedp.CSS("header.top")))

		// The upload to revert: E1 moves to Marketing, E21 is new.
		const head = "external_id;first_name;last_name;country;preferred_language;business_email;department_en;department_nl;job_title_en;manager\n"
		moved := c.write("moved.csv", head+
			"E1;First1;Last1;BE;nl;e1@example.com;Marketing;Marketing;Account manager;\n"+
			"E21;First21;Last21;BE;nl;e21@example.com;Sales;Verkoop;Account manager;\n")
		b.run("upload the file",
			chromedp.Navigate(base+"/upload"),
			chromedp.SetUploadFiles(chromedp.ID("file"), []string{moved}),
			chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
		b.waitText("the upload is imported", "Succeeded")
		b.wantText("the upload's outcome", "1\ncreated", "1\nupdated", "Revert this import")
		upload := importIDOf(t, get(b, "where", chromedp.Location()))

		// "Revert this import": a preview, on the page of a new import.
		b.run("click Revert this import", chromedp.Click(chromedp.CSS(`form#revert button[type=submit]`)))
		b.waitText("the preview's page", "This is a preview of a revert of import "+upload)
		preview := importIDOf(t, get(b, "where", chromedp.Location()))
		if preview == upload {
			t.Fatalf("Revert this import stayed on the upload's page %s", upload)
		}
		b.wantText("the preview says what the revert would do",
			"Preview of the revert of import "+upload, "the counts say what the revert would do",
			"nothing was changed", "Revert now", "2 users changed by import "+upload+", each looked at.",
			"1\nwould update", "1\nwould archive",
			"What this revert would do",
			"Would update (1)", "department_en: Marketing → Sales", "department_nl: Marketing → Verkoop",
			"Would archive (1)", "E21", "First21 Last21")
		if page := b.text(); strings.Contains(page, "Revert this import") {
			t.Errorf("the preview of a revert offers to revert the preview:\n%s", page)
		}
		if st := c.userStatus("demo", "E21"); st != store.StatusActive {
			t.Fatalf("E21 is %s after the preview, want it still active", st)
		}
		b.shot("revert-preview")

		// "Revert now": a new import that puts it back.
		b.run("click Revert now", chromedp.Click(chromedp.CSS(`#revert-preview button[type=submit]`)))
		b.waitFor("the revert's page", `location.pathname !== "/imports/`+preview+`" && location.pathname.startsWith("/imports/imp_")`)
		b.waitText("the revert ends", "Succeeded")
		revert := importIDOf(t, get(b, "where", chromedp.Location()))
		b.wantText("the revert's page", "Revert of import "+upload, "This import reverts import "+upload,
			"Reverts\nimport "+upload, "1\nupdated", "1\narchived",
			"Updated (1)", "department_en: Marketing → Sales", "Archived (1)", "First21 Last21")
		if page := b.text(); strings.Contains(page, "This is a preview") || strings.Contains(page, "Dry run: nothing was changed") {
			t.Fatalf("Revert now only previewed again:\n%s", page)
		}
		if st := c.userStatus("demo", "E21"); st != store.StatusArchived {
			t.Fatalf("E21 is %s after the revert, want archived", st)
		}
		b.run("back to the upload", chromedp.Navigate(base+"/imports/"+upload))
		b.wantText("the reverted upload", "Reverted by import "+revert)
		if page := b.text(); strings.Contains(page, "Revert this import") {
			t.Errorf("the reverted upload still offers to be reverted:\n%s", page)
		}

		// E1's page: Sales again, and the revert at the top of the history.
		b.run("open E1", chromedp.Navigate(base+"/users/E1"), chromedp.WaitVisible(chromedp.ID("history")))
		department := get(b, "E1's department", chromedp.Evaluate[string](`(function () {
			var row = Array.from(document.querySelectorAll("tr")).find(function (r) { return r.innerText.indexOf("department_") >= 0; });
			return row ? row.innerText : "";
		})()`))
		if !strings.Contains(department, "Sales") || !strings.Contains(department, "Verkoop") || strings.Contains(department, "Marketing") {
			t.Fatalf("E1's department after the revert: %q, want Sales and Verkoop", department)
		}
		b.wantText("E1's history", "import "+revert, "import "+upload, "department_en: Marketing → Sales", "department_en: Sales → Marketing")
		if page := b.text(); strings.Index(page, "import "+revert) > strings.Index(page, "import "+upload) {
			t.Fatalf("E1's history does not list the revert first:\n%s", page)
		}
		b.run("scroll to the history", chromedp.ScrollIntoView(chromedp.ID("history")))
		b.shot("revert-done")
		b.noViolations()
	})
}
