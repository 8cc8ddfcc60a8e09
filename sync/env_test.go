package sync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/jobs"
	"rosterd/notify"
	"rosterd/store"
	"rosterd/store/storetest"
	rostersync "rosterd/sync"
)

// env is one organisation on a real database, the import service with an
// insert-only River client, and the scheduler on a clock the test moves.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	q     *jobs.Client
	svc   *importer.Service
	sched *rostersync.Scheduler
	org   *store.Org
	now   time.Time
}

func newEnv(t *testing.T, db *store.DB, schedule, timeZone string) *env {
	t.Helper()
	ctx := context.Background()
	svc, q := importertest.NewService(t, db, importer.ServiceConfig{})
	e := &env{t: t, ctx: ctx, db: db, q: q, svc: svc}
	e.org = e.newOrg("acme", schedule, timeZone)
	e.sched = &rostersync.Scheduler{Runner: &rostersync.Runner{Service: svc, DB: db, Queue: q}, Queue: q,
		Now: func() time.Time { return e.now }}
	return e
}

func (e *env) newOrg(slug, schedule, timeZone string) *store.Org {
	e.t.Helper()
	o := store.NewOrg(slug, strings.ToUpper(slug))
	o.SyncSchedule, o.TimeZone = schedule, timeZone
	o.SetNotificationEmails([]string{"hr@" + slug + ".test"})
	if err := store.OrgCreate(e.ctx, e.db, &o); err != nil {
		e.t.Fatal(err)
	}
	return &o
}

// at sets the scheduler's clock.
func (e *env) at(s string, loc *time.Location) {
	e.t.Helper()
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	if err != nil {
		e.t.Fatal(err)
	}
	e.now = t
}

// put stores a complete file in /in/ as the SFTP door does: the file and
// its /in/ row in one transaction.
func (e *env) put(org *store.Org, name, content string, modified time.Time) {
	e.t.Helper()
	err := e.db.InTx(e.ctx, func(tx *sqlx.Tx) error {
		f, err := store.FileCreate(e.ctx, tx, org.ID, name, strings.NewReader(content), 1<<20)
		if err != nil {
			return err
		}
		return store.InboxPut(e.ctx, tx, &store.InboxFile{OrgID: org.ID, Name: name, FileID: f.ID, SizeBytes: f.SizeBytes,
			ModifiedAt: modified})
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// inbox is what /in/ lists, by name.
func (e *env) inbox(org *store.Org) []string {
	e.t.Helper()
	files, err := store.InboxList(e.ctx, e.db, org.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	return names
}

// imports lists the organisation's imports through the service, oldest first.
func (e *env) imports(org *store.Org) []store.Import {
	e.t.Helper()
	page, err := e.svc.ImportList(e.ctx, importer.ImportListParams{OrgID: org.ID, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	list := page.Items
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// tick runs the scheduler's tick at the clock's time and returns the sync
// jobs River holds afterwards that are still to run, as org/slot strings.
func (e *env) tick() []jobs.SyncArgs {
	e.t.Helper()
	if _, err := e.sched.Tick(e.ctx); err != nil {
		e.t.Fatalf("tick at %s: %v", e.now, err)
	}
	return e.pending()
}

func (e *env) pending() []jobs.SyncArgs {
	e.t.Helper()
	res, err := e.q.JobList(e.ctx, river.NewJobListParams().Kinds(jobs.SyncArgs{}.Kind()).
		States(rivertype.JobStateAvailable, rivertype.JobStateScheduled).First(100))
	if err != nil {
		e.t.Fatal(err)
	}
	var out []jobs.SyncArgs
	for _, j := range res.Jobs {
		var a jobs.SyncArgs
		if err := unmarshal(j.EncodedArgs, &a); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// work runs every pending sync job as a daemon's worker would, then
// deletes it from River, as River's cleaner does once a finished job is
// old: from then on only sync_runs keeps its slot from running again.
func (e *env) work() []*rostersync.Result {
	e.t.Helper()
	res, err := e.q.JobList(e.ctx, river.NewJobListParams().Kinds(jobs.SyncArgs{}.Kind()).
		States(rivertype.JobStateAvailable, rivertype.JobStateScheduled).First(100))
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*rostersync.Result
	for _, j := range res.Jobs {
		var a jobs.SyncArgs
		if err := unmarshal(j.EncodedArgs, &a); err != nil {
			e.t.Fatal(err)
		}
		r, err := e.sched.RunJob(e.ctx, a)
		if err != nil {
			e.t.Fatalf("sync job %+v: %v", a, err)
		}
		out = append(out, r)
		if _, err := e.q.JobDelete(e.ctx, j.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

// slots is the UTC slot of each job, as RFC 3339 text.
func slots(list []jobs.SyncArgs) []string {
	var out []string
	for _, a := range list {
		out = append(out, fmt.Sprintf("%d@%s", a.OrgID, a.Slot.UTC().Format(time.RFC3339)))
	}
	return out
}

// deliver sends the organisation's stored e-mails of kind to an outbox
// folder through the real deliverer and returns the messages.
func (e *env) deliver(kind string) []string {
	e.t.Helper()
	var ids []int64
	if err := e.db.Select(&ids, e.db.Rebind(`SELECT id FROM notifications WHERE org_id = ? AND kind = ? ORDER BY id`), e.org.ID, kind); err != nil {
		e.t.Fatal(err)
	}
	dir := e.t.TempDir()
	d := &notify.Deliverer{DB: e.db, Mailer: &notify.Outbox{Dir: dir},
		Params: notify.ComposeParams{From: "rosterd@acme.test", PublicURL: "https://rosterd.acme.test"}}
	var msgs []string
	for _, id := range ids {
		if err := d.Deliver(e.ctx, id); err != nil {
			e.t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			e.t.Fatal(err)
		}
		msgs = append(msgs, string(b))
	}
	return msgs
}

func eachEnv(t *testing.T, schedule, timeZone string, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { fn(t, newEnv(t, db, schedule, timeZone)) })
}

const roster3 = "external_id;first_name;last_name;country;preferred_language;business_email\n" +
	"E1;Ann;One;BE;nl;e1@example.com\nE2;Bob;Two;BE;nl;e2@example.com\nE3;Cy;Three;BE;nl;e3@example.com\n"

func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func jobsArgs(orgID int64, slot string) jobs.SyncArgs {
	t, err := time.Parse(time.RFC3339, slot)
	if err != nil {
		panic(err)
	}
	return jobs.SyncArgs{OrgID: orgID, Slot: t}
}

// work2 ticks and runs the one sync job that is due.
func (e *env) work2() *rostersync.Result {
	e.t.Helper()
	if got := e.tick(); len(got) != 1 {
		e.t.Fatalf("tick at %s: %v, want one sync", e.now, slots(got))
	}
	return e.work()[0]
}
