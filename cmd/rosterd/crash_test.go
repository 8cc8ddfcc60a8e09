package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"rosterd/jobs"
	"rosterd/notify/mailtest"
	"rosterd/store"
)

// TestKilledInsideTheImportTransaction kills the daemon (SIGKILL) while an
// import sits inside its transaction: the roster written but not committed
// ("applied"), and the outcome and its e-mail recorded with the commit next
// ("committing"). The test hook ROSTERD_TEST_PAUSE_AT holds the import at
// that step, so the kill lands there every time. Nothing of it may show, and
// a restarted daemon finishes it once, with one e-mail.
func TestKilledInsideTheImportTransaction(t *testing.T) {
	t.Parallel()
	eachDialectSideBySide(t, func(t *testing.T, c *cli) {
		mail := mailtest.Start(t)
		c.env = append(c.env, "ROSTERD_SMTP_URL="+mail.URL(), shortLiveness)
		db := c.db()
		for _, step := range []string{"applied", "committing"} {
			t.Run(step, func(t *testing.T) {
				acme, ref := "acme-"+step, "ref-"+step
				c.ok("org", "create", acme, "--name", "Acme", "--notify", "hr@acme.test")
				c.ok("org", "create", ref, "--name", "Reference")
				// 300 users; the import to kill renames them and adds 100.
				before := c.write("before-"+step+".csv", roster(300, "Before"))
				after := c.write("after-"+step+".csv", roster(400, "After"))
				for _, org := range []string{acme, ref} {
					c.ok("import", "--org", org, before)
				}
				old := c.ok("users", "export", "--org", acme)
				c.ok("import", "--org", ref, after)
				want := c.ok("users", "export", "--org", ref)

				marker := filepath.Join(c.dir, "paused-"+step)
				d := c.serve("ROSTERD_TEST_PAUSE_AT="+step, "ROSTERD_TEST_PAUSE_AT_FILE="+marker)
				id := strings.TrimSpace(c.ok("import", "--org", acme, "--detach", after))
				waitFile(t, marker, 60*time.Second, d)
				if got := c.ok("users", "export", "--org", acme); got != old {
					t.Error("while the import is paused inside its transaction, others already see its roster")
				}
				d.kill()

				killedAt, err := store.ImportLookup(context.Background(), db, id)
				if err != nil || killedAt.Status != store.ImportProcessing {
					t.Fatalf("after the kill the import is %+v (%v), want still processing", killedAt, err)
				}
				if got := c.ok("users", "export", "--org", acme); got != old {
					t.Error("the killed import changed the roster")
				}
				if ns := notificationsOf(t, db, id); len(ns) != 0 {
					t.Errorf("the killed import left %d notifications; its outcome never committed", len(ns))
				}

				restarted := c.serve()
				im := waitTakeover(t, db, id, killedAt.Run, shortTakeover, d, restarted)
				if im.Status != store.ImportSucceeded || im.Created != 100 || im.Updated != 300 || im.Rows != 400 {
					t.Fatalf("after restart: %s %+v %s", im.Status, im.Counts, im.Error)
				}
				if got := c.ok("users", "export", "--org", acme); got != want {
					t.Error("the roster after the crash differs from the uninterrupted run's")
				}
				emailsSentOnce(t, db, mail, []string{id}, restarted)
			})
		}
	})
}

// waitFile waits for the file a paused daemon writes (ROSTERD_TEST_PAUSE_AT_FILE).
func waitFile(t *testing.T, path string, timeout time.Duration, d *daemon) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		select {
		case <-d.exited():
			t.Fatalf("rosterd serve exited before the import paused: %v\n%s", d.result, d.output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no import paused within %s:\n%s", timeout, d.output())
		}
	}
}

// stop ends the daemon as an operator does (SIGTERM) and waits for it to
// exit: its workers end their jobs and River records their final states.
func (d *daemon) stop() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		d.t.Fatal(err)
	}
	select {
	case <-d.exited():
	case <-time.After(60 * time.Second):
		d.t.Fatalf("serve did not stop within 60s of SIGTERM:\n%s", d.output())
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		d.t.Fatalf("serve exit code %d after SIGTERM:\n%s", code, d.output())
	}
}

// notificationsOf reads the notifications stored for an import.
func notificationsOf(t *testing.T, db *store.DB, importID string) []store.Notification {
	t.Helper()
	var ns []store.Notification
	if err := db.Select(&ns, db.Rebind(`SELECT id, org_id, import_id, kind, recipients, created_at, attempts, last_error, sent_at
		FROM notifications WHERE import_id = ? ORDER BY id`), importID); err != nil {
		t.Fatal(err)
	}
	return ns
}

// emailsSentOnce asserts that each import sent exactly one e-mail, from
// stored state instead of waiting for a duplicate that may or may not come:
// once its one notification is marked sent, the daemons are stopped; then
// the River job that delivered it is completed, no other job for it is left
// to run later, and the SMTP server received it once.
func emailsSentOnce(t *testing.T, db *store.DB, mail *mailtest.Server, ids []string, daemons ...*daemon) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range ids {
		for {
			ns := notificationsOf(t, db, id)
			if len(ns) > 0 && ns[0].SentAt != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("import %s: no notification marked sent within 60s: %+v", id, ns)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, d := range daemons {
		d.stop()
	}

	q, err := jobs.New(db, jobs.Params{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.JobList(context.Background(), river.NewJobListParams().Kinds(jobs.NotifyArgs{}.Kind()).First(10000))
	if err != nil {
		t.Fatal(err)
	}
	jobStates := map[int64][]string{} // notification id → states of its jobs
	for _, j := range res.Jobs {
		var a jobs.NotifyArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			t.Fatal(err)
		}
		jobStates[a.NotificationID] = append(jobStates[a.NotificationID], string(j.State))
	}
	received := map[string]int{}
	for _, m := range mail.Messages() {
		p, err := mailtest.Parse(m.Raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if strings.Contains(p.Subject, id) {
				received[id]++
			}
		}
	}
	for _, id := range ids {
		ns := notificationsOf(t, db, id)
		if len(ns) != 1 || ns[0].SentAt == nil {
			t.Errorf("import %s: %d notifications (%+v), want exactly 1, sent", id, len(ns), ns)
			continue
		}
		if got := jobStates[ns[0].ID]; len(got) != 1 || got[0] != "completed" {
			t.Errorf("import %s: jobs of its notification %v, want one, completed", id, got)
		}
		if received[id] != 1 {
			t.Errorf("import %s: %d e-mails received, want exactly 1", id, received[id])
		}
	}
}
