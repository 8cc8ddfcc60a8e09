package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rosterd/notify/mailtest"
	"rosterd/store"
)

// TestErrorsFileOfASyncIsNeverTheNextRoster is the round trip an admin took
// (issue 17): a nightly sync over SFTP with failed rows leaves its errors
// CSV in /errors/; the admin fixes it and puts it into /in/. The next sync
// must fail saying where the file goes, and archive nobody — here even with
// a threshold that would not hold it. The sync's e-mail names the back
// office and the API; the same fixed file uploaded through the API, a
// partial import, applies.
func TestErrorsFileOfASyncIsNeverTheNextRoster(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme", "--notify", "hr@acme.test", "--schedule", "on_upload",
			"--archive-threshold-percent", "100")
		if out, errOut, code := c.run("sync password 1\n", "sftp-account", "add", "--org", "acme", "--user", "hr", "--password-stdin"); code != 0 {
			t.Fatalf("sftp-account add: %d %s%s", code, out, errOut)
		}
		token := strings.TrimSpace(c.ok("token", "create", "--org", "acme", "--name", "ci"))
		db := c.db()
		d := c.serve()
		client, conn, err := sftpLogin(d.sftpAddr(), "hr", "sync password 1")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		active := func() int {
			t.Helper()
			var n int
			if err := db.Get(&n, db.Rebind(`SELECT COUNT(*) FROM users u JOIN organisations o ON o.id = u.org_id
				WHERE o.slug = ? AND u.status = ?`), "acme", store.StatusActive); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// The nightly roster: 50 users and two rows with a bad country.
		bad := "E000901;New;Hire;XX;nl;new.hire@example.com;;Sales\nE000902;Other;Hire;XX;nl;other.hire@example.com;;Sales\n"
		drop(t, client, "roster.csv", roster(50, "A")+bad)
		sync := nextSFTPImport(t, db, "")
		if sync.Status != store.ImportCompletedWithErrors || sync.Created != 50 || sync.Failed != 2 {
			t.Fatalf("the sync: %s %+v %s", sync.Status, sync.Counts, sync.Error)
		}
		f, err := client.Open("/errors/" + sync.ID + ".csv")
		if err != nil {
			t.Fatalf("the errors CSV in /errors/: %v", err)
		}
		errorsCSV, err := io.ReadAll(f)
		f.Close()
		if err != nil || !strings.HasSuffix(strings.SplitN(string(errorsCSV), "\n", 2)[0], ";errors") {
			t.Fatalf("/errors/%s.csv: %v\n%s", sync.ID, err, errorsCSV)
		}

		// The sync's e-mail says where the fixed file goes.
		mail := outboxMail(t, c, sync.ID)
		for _, want := range []string{"upload it in the back office (Actions → Upload users: ", "or with POST /api/v1/imports, a partial import, which never archives anyone.",
			"Do not put it into /in/ on the SFTP endpoint"} {
			if !strings.Contains(mail.Text, want) {
				t.Errorf("the sync's e-mail lacks %q:\n%s", want, mail.Text)
			}
		}

		// So does `rosterd import show`.
		if out := c.ok("import", "show", sync.ID); !strings.Contains(out, "Import it as a partial import (rosterd import without --mode full, "+
			"the back office's Actions → Upload users, or POST /api/v1/imports), never into /in/ or with --mode full") {
			t.Errorf("import show of the sync does not say where the fixed file goes:\n%s", out)
		}

		// Fixed and put into /in/: refused as a roster, nobody archived.
		fixed := strings.ReplaceAll(string(errorsCSV), ";XX;", ";BE;")
		drop(t, client, "roster.csv", fixed)
		refused := nextSFTPImport(t, db, sync.ID)
		want := `this is an errors file (it has rosterd's "errors" column), not a whole roster; upload it in the back office (Actions → Upload users)`
		if refused.Status != store.ImportFailed || !strings.Contains(refused.Error, want) || refused.Counts != (store.Counts{}) {
			t.Fatalf("the errors file in /in/: %s %+v %q, want failed with %q", refused.Status, refused.Counts, refused.Error, want)
		}
		if n := active(); n != 50 || c.userCount(db, "acme") != 50 {
			t.Fatalf("after the refused errors file: %d active of %d users, want 50 of 50", n, c.userCount(db, "acme"))
		}

		// The same file through the API (a partial import) applies.
		var body bytes.Buffer
		form := multipart.NewWriter(&body)
		part, err := form.CreateFormFile("file", sync.ID+".csv")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(part, fixed)
		_ = form.Close()
		req, err := http.NewRequest("POST", d.httpAddr()+"/api/v1/imports", &body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", form.FormDataContentType())
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var im struct {
			ID string `json:"id"`
		}
		if res.StatusCode != http.StatusAccepted || json.Unmarshal(answer, &im) != nil {
			t.Fatalf("upload through the API = %d %s", res.StatusCode, answer)
		}
		applied := waitImport(t, db, im.ID, time.Minute, finished)
		if applied.Status != store.ImportSucceeded || applied.Mode != "partial" || applied.Created != 2 || applied.Archived != 0 {
			t.Fatalf("the errors file through the API: %s %s %+v %s", applied.Status, applied.Mode, applied.Counts, applied.Error)
		}
		if n := active(); n != 52 {
			t.Errorf("after the API upload: %d active users, want 52", n)
		}
	})
}

// outboxMail is the first e-mail of an import in the daemon's outbox, parsed.
func outboxMail(t *testing.T, c *cli, importID string) *mailtest.Parsed {
	t.Helper()
	outbox := filepath.Join(c.dir, "data", "outbox")
	deadline := time.Now().Add(time.Minute)
	for {
		entries, _ := os.ReadDir(outbox)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), importID) && strings.HasSuffix(e.Name(), ".eml") {
				b, err := os.ReadFile(filepath.Join(outbox, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				p, err := mailtest.Parse(b)
				if err != nil {
					t.Fatalf("%s: %v", e.Name(), err)
				}
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no e-mail for import %s in the outbox", importID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
