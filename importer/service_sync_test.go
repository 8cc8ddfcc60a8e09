package importer_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// putInbox stores a complete file in /in/ as the SFTP door does.
func (e *env) putInbox(name, content string, modified time.Time) {
	e.t.Helper()
	ctx := context.Background()
	err := e.db.InTx(ctx, func(tx *sqlx.Tx) error {
		f, err := store.FileCreate(ctx, tx, e.org.ID, name, strings.NewReader(content), 0)
		if err != nil {
			return err
		}
		return store.InboxPut(ctx, tx, &store.InboxFile{OrgID: e.org.ID, Name: name, FileID: f.ID, SizeBytes: f.SizeBytes, ModifiedAt: modified})
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) inboxNames() string {
	e.t.Helper()
	files, err := store.InboxList(context.Background(), e.db, e.org.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	return strings.Join(names, ",")
}

func TestImportInboxTakesNewestAndSupersedesOlder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		at := time.Date(2026, 5, 4, 20, 0, 0, 0, time.UTC)
		e.putInbox("a.csv", fullRoster(1, 3), at)
		e.putInbox("b.csv", fullRoster(1, 4), at.Add(time.Minute))
		e.putInbox("c.csv", fullRoster(1, 5), at.Add(2*time.Minute)) // the last to arrive
		e.putInbox("d.csv.tmp", fullRoster(1, 6), at.Add(3*time.Minute))

		// A failing InTx (the scheduler's slot was run elsewhere) takes nothing.
		refused := errors.New("slot already run")
		if _, err := svc.ImportInbox(ctx, importer.ImportInboxParams{OrgID: e.org.ID,
			InTx: func(context.Context, *sqlx.Tx, *importer.InboxTaken) error { return refused }}); !errors.Is(err, refused) {
			t.Fatalf("ImportInbox with a failing InTx: %v", err)
		}
		if got := e.inboxNames(); got != "a.csv,b.csv,c.csv,d.csv.tmp" {
			t.Fatalf("/in/ after a rolled-back take: %s", got)
		}
		if page, _ := svc.ImportList(ctx, importer.ImportListParams{OrgID: e.org.ID}); len(page.Items) != 0 {
			t.Fatalf("imports after a rolled-back take: %v", page.Items)
		}

		var seen *importer.InboxTaken
		taken, err := svc.ImportInbox(ctx, importer.ImportInboxParams{OrgID: e.org.ID,
			InTx: func(_ context.Context, _ *sqlx.Tx, t *importer.InboxTaken) error { seen = t; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		if seen != taken || taken.Import.FileName != "c.csv" || taken.Import.Mode != "full" || taken.Import.Door != store.DoorSFTP ||
			taken.Import.Status != store.ImportQueued || len(taken.Superseded) != 2 ||
			taken.Superseded[0].FileName != "a.csv" || taken.Superseded[1].FileName != "b.csv" {
			t.Fatalf("taken %+v", taken)
		}
		if got := e.inboxNames(); got != "d.csv.tmp" {
			t.Errorf("/in/ = %s, want only the temporary name", got)
		}
		for _, old := range taken.Superseded {
			im, err := svc.ImportGet(ctx, importer.ImportRef{OrgID: e.org.ID, ID: old.ID})
			if err != nil || im.Status != store.ImportSuperseded || im.SupersededBy != taken.Import.ID || im.Seq >= taken.Import.Seq {
				t.Errorf("older file: %+v %v", im, err)
			}
			// Its stored file is kept: /processed/ serves it.
			if _, err := store.FileGet(ctx, db, e.org.ID, im.FileID); err != nil {
				t.Errorf("file of %s: %v", im.FileName, err)
			}
		}
		if im := e.process(svc, taken.Import.ID); im.Status != store.ImportSucceeded || im.Created != 5 {
			t.Errorf("newest roster: %s %+v", im.Status, im.Counts)
		}
	})
}

// Two syncs at once (two daemons, or the command line and a daemon) take
// each file once: one gets the import, the other finds /in/ empty.
func TestImportInboxTakesEachFileOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		for round := range 5 {
			e.putInbox("roster.csv", fullRoster(1, 3+round), time.Now())
			var wg sync.WaitGroup
			results := make([]*importer.InboxTaken, 4)
			errs := make([]error, 4)
			for i := range results {
				wg.Go(func() {
					results[i], errs[i] = svc.ImportInbox(ctx, importer.ImportInboxParams{OrgID: e.org.ID})
				})
			}
			wg.Wait()
			got := 0
			for i, r := range results {
				if errs[i] != nil {
					t.Fatalf("sync %d: %v", i, errs[i])
				}
				if r.Import != nil {
					got++
				}
			}
			if got != 1 {
				t.Fatalf("round %d: %d syncs took the file, want 1", round, got)
			}
		}
		page, err := svc.ImportList(ctx, importer.ImportListParams{OrgID: e.org.ID})
		if err != nil || len(page.Items) != 5 {
			t.Errorf("%d imports, want 5 (%v)", len(page.Items), err)
		}
	})
}

func TestUsersArchiveDue(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		roster := strings.ReplaceAll(fullRoster(1, 3), "\n", ";\n")
		roster = strings.Replace(roster, "business_email;\n", "business_email;archived_at\n", 1)
		roster = strings.Replace(roster, "e1@example.com;\n", "e1@example.com;2026-12-31 17:00:00\n", 1)
		e.importFile(importer.ModeFull, roster)
		if n, err := svc.UsersArchiveDue(ctx, e.org.ID, time.Date(2026, 12, 31, 16, 59, 0, 0, time.UTC)); err != nil || n != 0 {
			t.Fatalf("before the day: %d, %v", n, err)
		}
		if n, err := svc.UsersArchiveDue(ctx, e.org.ID, time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC)); err != nil || n != 1 {
			t.Fatalf("on the day: %d, %v", n, err)
		}
		if u := e.user("E1"); u.Status != store.StatusArchived {
			t.Errorf("E1 %s", u.Status)
		}
		if u := e.user("E2"); u.Status != store.StatusActive {
			t.Errorf("E2 %s", u.Status)
		}
	})
}
