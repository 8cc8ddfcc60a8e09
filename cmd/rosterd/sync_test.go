package main_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/notify/mailtest"
	"rosterd/store"
)

// putInbox stores a complete file in the organisation's /in/ as the SFTP
// door does: the file and its /in/ row in one transaction.
func putInbox(t *testing.T, db *store.DB, org, name, content string, modified time.Time) {
	t.Helper()
	ctx := context.Background()
	o, err := store.OrgGetBySlug(ctx, db, org)
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *sqlx.Tx) error {
		f, err := store.FileCreate(ctx, tx, o.ID, name, strings.NewReader(content), 1<<30)
		if err != nil {
			return err
		}
		return store.InboxPut(ctx, tx, &store.InboxFile{OrgID: o.ID, Name: name, FileID: f.ID, SizeBytes: f.SizeBytes, ModifiedAt: modified})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSyncRunCommand(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		db := c.db()
		out := c.ok("sync", "run", "--org", "acme")
		if !strings.Contains(out, "no new roster in /in/ of acme") {
			t.Errorf("empty /in/: %s", out)
		}
		at := time.Date(2026, 5, 4, 20, 0, 0, 0, time.UTC)
		putInbox(t, db, "acme", "old.csv", roster(5, "Old"), at)
		putInbox(t, db, "acme", "new.csv", roster(5, "New"), at.Add(time.Hour))
		putInbox(t, db, "acme", "next.csv.part", roster(5, "Part"), at.Add(2*time.Hour))
		out = c.ok("sync", "run", "--org", "acme")
		var id, old string
		if _, err := fmt.Sscanf(strings.SplitN(out, "\n", 2)[0], "sync of acme: /in/new.csv became import %s", &id); err != nil {
			t.Fatalf("output: %v\n%s", err, out)
		}
		if _, err := fmt.Sscanf(strings.Split(out, "\n")[1], "  /in/old.csv: import %s", &old); err != nil {
			t.Fatalf("superseded line: %v\n%s", err, out)
		}
		old = strings.TrimSuffix(old, ",")
		for _, want := range []string{"import " + id + " succeeded", "new.csv, full mode, door: SFTP", "created   5"} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
		if s := c.ok("import", "show", old); !strings.Contains(s, "superseded by import "+id) {
			t.Errorf("import show %s:\n%s", old, s)
		}
		if c.userCount(db, "acme") != 5 {
			t.Errorf("%d users, want 5", c.userCount(db, "acme"))
		}
		// The temporary name stays in /in/ and a detached run leaves nothing to take.
		out = c.ok("sync", "run", "--org", "acme", "--detach")
		if !strings.Contains(out, "no new roster in /in/") {
			t.Errorf("second run: %s", out)
		}
		files, err := store.InboxList(context.Background(), db, mustOrg(t, db, "acme"))
		if err != nil || len(files) != 1 || files[0].Name != "next.csv.part" {
			t.Errorf("/in/ = %v, %v", files, err)
		}
	})
}

func mustOrg(t *testing.T, db *store.DB, slug string) int64 {
	t.Helper()
	o, err := store.OrgGetBySlug(context.Background(), db, slug)
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// TestTwoDaemonsSyncEachSlotOnce: two daemons on one PostgreSQL, an
// every-minute schedule, and every daemon ticking the scheduler every 5ms
// (ROSTERD_TEST_SYNC_TICK) on top of River's leader: they race to queue
// each slot while its job runs, and each slot is still queued and run once
// (without River's unique options a slot is queued several times). The slot is a real
// minute; the test waits on the database for its import.
func TestTwoDaemonsSyncEachSlotOnce(t *testing.T) {
	t.Parallel()
	c := newCLI(t, store.Postgres)
	mail := mailtest.Start(t)
	c.env = append(c.env, "ROSTERD_SMTP_URL="+mail.URL())
	c.ok("org", "create", "acme", "--name", "Acme", "--notify", "hr@acme.test", "--schedule", "* * * * *")
	db := c.db()
	at := time.Now().Add(-time.Hour)
	putInbox(t, db, "acme", "monday.csv", roster(50, "Mon"), at)
	putInbox(t, db, "acme", "tuesday.csv", roster(50, "Tue"), at.Add(time.Minute))
	tick := "ROSTERD_TEST_SYNC_TICK=5ms"
	d1 := c.serve("ROSTERD_DATA_DIR="+filepath.Join(c.dir, "node1"), tick)
	d2 := c.serve("ROSTERD_DATA_DIR="+filepath.Join(c.dir, "node2"), tick)

	// The next minute's slot takes the files.
	orgID := mustOrg(t, db, "acme")
	var id string
	deadline := time.Now().Add(150 * time.Second)
	for id == "" {
		var ids []string
		if err := db.Select(&ids, db.Rebind(`SELECT id FROM imports WHERE org_id = ? AND status <> 'superseded'`), orgID); err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 {
			id = ids[0]
		} else if time.Now().After(deadline) {
			t.Fatalf("no sync import within 150s\n%s", d1.output())
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	im := waitImport(t, db, id, 60*time.Second, finished)
	if im.Status != store.ImportSucceeded || im.FileName != "tuesday.csv" || im.Door != store.DoorSFTP || im.Created != 50 {
		t.Fatalf("sync import %s %s %s %+v", im.Status, im.FileName, im.Door, im.Counts)
	}
	// Let another daemon's tick come after the slot ran, then stop both and count.
	emailsSentOnce(t, db, mail, []string{id}, d1, d2)

	var imports []store.Import
	if err := db.Select(&imports, db.Rebind(`SELECT id, file_name, status, superseded_by FROM imports WHERE org_id = ? ORDER BY seq`), orgID); err != nil {
		t.Fatal(err)
	}
	if len(imports) != 2 || imports[0].FileName != "monday.csv" || imports[0].SupersededBy != id || imports[1].ID != id {
		t.Errorf("imports %+v; want monday.csv superseded by %s, then %s", imports, id, id)
	}
	runs, err := store.SyncRunList(context.Background(), db, orgID)
	if err != nil {
		t.Fatal(err)
	}
	withImport := 0
	for _, r := range runs {
		if r.ImportID != nil {
			withImport++
		}
	}
	if withImport != 1 {
		t.Errorf("%d slots made an import, want 1: %+v", withImport, runs)
	}
	// One sync job per slot, however many ticks queued it.
	var perSlot []struct {
		Slot string `db:"slot"`
		N    int    `db:"n"`
	}
	if err := db.Select(&perSlot, `SELECT args->>'slot' AS slot, COUNT(*) AS n FROM river_job WHERE kind = 'sync' GROUP BY 1`); err != nil {
		t.Fatal(err)
	}
	for _, s := range perSlot {
		if s.N != 1 {
			t.Errorf("slot %s queued %d times", s.Slot, s.N)
		}
	}
}

// TestScheduledSyncInServe: one daemon on SQLite, no test hook: River's
// leader ticks the scheduler every minute and the next minute's slot takes
// the newest file of /in/ and runs it.
func TestScheduledSyncInServe(t *testing.T) {
	t.Parallel()
	c := newCLI(t, store.SQLite)
	c.ok("org", "create", "acme", "--name", "Acme", "--schedule", "* * * * *", "--time-zone", "Europe/Brussels")
	db := c.db()
	putInbox(t, db, "acme", "roster.csv", roster(20, "Sched"), time.Now())
	d := c.serve()
	orgID := mustOrg(t, db, "acme")
	deadline := time.Now().Add(150 * time.Second)
	for {
		runs, err := store.SyncRunList(context.Background(), db, orgID)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) > 0 {
			if runs[0].ImportID == nil {
				t.Fatalf("the first slot took no file: %+v", runs[0])
			}
			im := waitImport(t, db, *runs[0].ImportID, 60*time.Second, finished)
			if im.Status != store.ImportSucceeded || im.Created != 20 || im.Door != store.DoorSFTP {
				t.Errorf("sync import %s %+v door %s", im.Status, im.Counts, im.Door)
			}
			if runs[0].Slot.Second() != 0 {
				t.Errorf("slot %s is not a whole minute", runs[0].Slot)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot ran within 150s:\n%s", d.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTwoDaemonsSweepAMissedUploadOnce: a complete file waits in the /in/
// of an on_upload organisation without its sync (stored, then FileArrived
// never queued one). Two daemons sweeping /in/ over and over (the test
// hook; in production River's leader sweeps every 5 minutes) sync it
// once: one import, applied, one sync job, /in/ empty.
func TestTwoDaemonsSweepAMissedUploadOnce(t *testing.T) {
	t.Parallel()
	c := newCLI(t, store.Postgres)
	c.ok("org", "create", "acme", "--name", "Acme", "--schedule", "on_upload")
	db := c.db()
	orgID := mustOrg(t, db, "acme")
	putInbox(t, db, "acme", "roster.csv", roster(20, "Swept"), time.Now())
	tick := "ROSTERD_TEST_SYNC_TICK=5ms"
	d1 := c.serve("ROSTERD_DATA_DIR="+filepath.Join(c.dir, "node1"), tick)
	d2 := c.serve("ROSTERD_DATA_DIR="+filepath.Join(c.dir, "node2"), tick)

	var id string
	deadline := time.Now().Add(60 * time.Second)
	for id == "" {
		var ids []string
		if err := db.Select(&ids, db.Rebind(`SELECT id FROM imports WHERE org_id = ?`), orgID); err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 {
			id = ids[0]
		} else if time.Now().After(deadline) {
			t.Fatalf("the waiting file was not synced within 60s\n%s\n%s", d1.output(), d2.output())
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	im := waitImport(t, db, id, 60*time.Second, finished)
	if im.Status != store.ImportSucceeded || im.FileName != "roster.csv" || im.Door != store.DoorSFTP || im.Created != 20 {
		t.Fatalf("swept sync import %s %s %s %+v", im.Status, im.FileName, im.Door, im.Counts)
	}
	// Let both daemons sweep a while longer (a second, some 200 sweeps):
	// nothing happening cannot be awaited. Nothing more is queued.
	time.Sleep(time.Second)
	var n int
	if err := db.Get(&n, db.Rebind(`SELECT COUNT(*) FROM imports WHERE org_id = ?`), orgID); err != nil || n != 1 {
		t.Errorf("%d imports (%v), want 1", n, err)
	}
	if err := db.Get(&n, `SELECT COUNT(*) FROM river_job WHERE kind = 'sync'`); err != nil || n != 1 {
		t.Errorf("%d sync jobs (%v), want 1", n, err)
	}
	if files, err := store.InboxList(context.Background(), db, orgID); err != nil || len(files) != 0 {
		t.Errorf("/in/ after the sync: %+v %v; want empty", files, err)
	}
}
