package main_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"rosterd/store"
)

// nextSFTPImport waits for the first import of door sftp newer than after
// to end (or to be held), as the HR integrator would by watching
// /processed/.
func nextSFTPImport(t *testing.T, db *store.DB, after string) *store.Import {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var id string
		err := db.Get(&id, db.Rebind(`SELECT id FROM imports WHERE door = 'sftp' AND id > ? AND status NOT IN ('superseded')
			ORDER BY id LIMIT 1`), after)
		if err == nil {
			im, err := store.ImportLookup(context.Background(), db, id)
			if err != nil {
				t.Fatal(err)
			}
			if im.Finished() {
				return im
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no SFTP import after %s ended within 2 minutes", after)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// drop uploads content to /in/name as an HR system would: under a
// temporary name, renamed when complete.
func drop(t *testing.T, client *sftp.Client, name, content string) {
	t.Helper()
	f, err := client.Create("/in/" + name + ".part")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close the upload: %v", err)
	}
	if err := client.PosixRename("/in/"+name+".part", "/in/"+name); err != nil {
		t.Fatal(err)
	}
}

// TestFullSyncOverSFTP: a 10,000-user roster dropped on SFTP by an
// organisation that syncs on upload; then the same minus 3% (archived);
// minus 40% (held, the e-mail attaches whom it would archive, approved →
// archived); an archived user back in the file (restored) with a bad row
// (its errors CSV in /errors/). What was processed is read back over the
// same login.
func TestFullSyncOverSFTP(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme", "--notify", "hr@acme.test", "--schedule", "on_upload")
		if out, errOut, code := c.run("sync password 1\n", "sftp-account", "add", "--org", "acme", "--user", "hr", "--password-stdin"); code != 0 {
			t.Fatalf("sftp-account add: %d %s%s", code, out, errOut)
		}
		db := c.db()
		d := c.serve()
		client, conn, err := sftpLogin(d.sftpAddr(), "hr", "sync password 1")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		status := func(id string) string { return c.userStatus("acme", id) }

		drop(t, client, "roster.csv", roster(10000, "A"))
		first := nextSFTPImport(t, db, "")
		if first.Status != store.ImportSucceeded || first.Created != 10000 || first.Mode != "full" {
			t.Fatalf("the first roster: %s, %d created, mode %s (%s)", first.Status, first.Created, first.Mode, first.Error)
		}

		drop(t, client, "roster.csv", roster(9700, "A"))
		minus3 := nextSFTPImport(t, db, first.ID)
		if minus3.Status != store.ImportSucceeded || minus3.Archived != 300 || minus3.Unchanged != 9700 {
			t.Fatalf("minus 3%%: %s, %d archived, %d unchanged", minus3.Status, minus3.Archived, minus3.Unchanged)
		}
		if status("E009701") != store.StatusArchived || status("E009700") != store.StatusActive {
			t.Fatal("minus 3%: E009701 should be archived and E009700 active")
		}

		drop(t, client, "roster.csv", roster(6000, "A"))
		held := nextSFTPImport(t, db, minus3.ID)
		if held.Status != store.ImportHeld || held.Archived != 3700 {
			t.Fatalf("minus 40%%: %s with %d to archive, want held with 3700", held.Status, held.Archived)
		}
		if status("E006001") != store.StatusActive {
			t.Fatal("the held sync archived someone")
		}
		mail := heldMail(t, c, held.ID)
		if !strings.Contains(mail, "Subject: ") || !strings.Contains(mail, held.ID+"-archive.csv") {
			t.Fatalf("the held e-mail does not attach %s-archive.csv:\n%.2000s", held.ID, mail)
		}
		c.ok("import", "approve", held.ID)
		approved := waitImport(t, db, held.ID, time.Minute, finished)
		if approved.Status != store.ImportSucceeded || approved.Archived != 3700 || status("E006001") != store.StatusArchived {
			t.Fatalf("the approved sync: %s, %d archived", approved.Status, approved.Archived)
		}

		back := roster(6001, "A") + "E999999;Bad;Row;XX;nl;bad@example.com;;Sales\n"
		drop(t, client, "roster.csv", back)
		last := nextSFTPImport(t, db, held.ID)
		if last.Status != store.ImportCompletedWithErrors || last.Restored != 1 || last.Failed != 1 || status("E006001") != store.StatusActive {
			t.Fatalf("an archived user back: %s, %d restored, %d failed", last.Status, last.Restored, last.Failed)
		}

		// Read back over the same login.
		processed, err := client.ReadDir("/processed")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, fi := range processed {
			names = append(names, fi.Name())
		}
		for _, im := range []*store.Import{first, minus3, held, last} {
			if !strings.Contains(strings.Join(names, ","), im.ID+"_roster.csv") {
				t.Errorf("/processed/ lacks %s_roster.csv: %v", im.ID, names)
			}
		}
		in, err := client.ReadDir("/in")
		if err != nil || len(in) != 0 {
			t.Errorf("/in/ after the syncs: %v %v, want empty", in, err)
		}
		f, err := client.Open("/errors/" + last.ID + ".csv")
		if err != nil {
			t.Fatalf("the errors CSV in /errors/: %v", err)
		}
		errorsCSV, err := io.ReadAll(f)
		f.Close()
		if err != nil || !strings.Contains(string(errorsCSV), "E999999;Bad;Row;XX") || !strings.Contains(string(errorsCSV), ";errors") {
			t.Fatalf("/errors/%s.csv: %v\n%s", last.ID, err, errorsCSV)
		}
	})
}

// heldMail is the e-mail sent for a held import, from the outbox.
func heldMail(t *testing.T, c *cli, importID string) string {
	t.Helper()
	outbox := filepath.Join(c.dir, "data", "outbox")
	deadline := time.Now().Add(time.Minute)
	for {
		entries, _ := os.ReadDir(outbox)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), importID) {
				b, err := os.ReadFile(filepath.Join(outbox, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b), "held") {
					return string(b)
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no e-mail for held import %s in the outbox", importID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
