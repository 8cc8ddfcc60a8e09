package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// skewed is two import services on one database, as two daemons whose
// clocks differ by a minute: ahead's runs a minute fast.
func skewed(t *testing.T, db *store.DB) (ahead, behind *importer.Service) {
	t.Helper()
	ahead, _ = importertest.NewService(t, db, importer.ServiceConfig{Now: func() time.Time { return time.Now().Add(time.Minute) }})
	behind, _ = importertest.NewService(t, db, importer.ServiceConfig{Now: time.Now})
	return ahead, behind
}

// signed is a full roster of E1 to E3 whose last names say which file
// was applied.
func signed(last string) string {
	var b strings.Builder
	b.WriteString("external_id;first_name;last_name;country;preferred_language;business_email\n")
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&b, "E%d;First%d;%s;BE;nl;e%d@example.com\n", i, i, last, i)
	}
	return b.String()
}

// TestSkewedClocksKeepAcceptanceOrder: the daemon a minute ahead accepts a
// roster, then the one behind accepts another. Their ids carry their
// clocks and sort the other way round, yet the imports are listed, wait
// their turn and are applied in the order they were accepted: the second
// roster is the one that stays.
func TestSkewedClocksKeepAcceptanceOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		ahead, behind := skewed(t, db)
		first := e.accept(ahead, importer.ModeFull, false, signed("Ahead"))
		second := e.accept(behind, importer.ModeFull, false, signed("Behind"))
		if first.ID <= second.ID {
			t.Fatalf("ids %s (ahead) and %s (behind) do not carry the skew; the test proves nothing", first.ID, second.ID)
		}

		page, err := behind.ImportList(ctx, importer.ImportListParams{OrgID: e.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 2 || page.Items[0].ID != second.ID || page.Items[1].ID != first.ID {
			var got []string
			for _, im := range page.Items {
				got = append(got, im.ID)
			}
			t.Errorf("list, newest first: %v; want %s (accepted second), %s", got, second.ID, first.ID)
		}
		if older, err := importer.OlderPending(ctx, db, second); err != nil || !older {
			t.Errorf("the second import waits for the first: %v, %v; want true", older, err)
		}
		if older, err := importer.OlderPending(ctx, db, first); err != nil || older {
			t.Errorf("the first import waits: %v, %v; want false", older, err)
		}

		// A daemon's worker runs both: the second waits for the first.
		startWorker(t, db, &importer.Worker{DB: db, Limits: importer.DefaultLimits(), MaxDuration: time.Minute})
		one := waitStatus(t, db, first.ID, store.ImportSucceeded)
		two := waitStatus(t, db, second.ID, store.ImportSucceeded)
		if two.StartedAt.Before(*one.FinishedAt) {
			t.Errorf("the second import started at %v, before the first finished at %v", two.StartedAt, one.FinishedAt)
		}
		for i := 1; i <= 3; i++ {
			if u := e.user(fmt.Sprintf("E%d", i)); u == nil || u.Plain["last_name"] != "Behind" {
				t.Errorf("E%d: %+v; want last name Behind, from the roster accepted second", i, u)
			}
		}
	})
}

// TestSkewedClocksNewestFileOfInbox: the daemon a minute ahead completes a
// file in /in/, then the one behind completes another; the sync takes the
// second as the roster and supersedes the first, whatever their times say;
// a file renamed into place arrives when it is renamed.
func TestSkewedClocksNewestFileOfInbox(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		ahead, behind := skewed(t, db)
		for _, put := range []struct {
			svc  *importer.Service
			name string
		}{{ahead, "first.csv"}, {behind, "second.csv"}} {
			if _, err := put.svc.InboxStore(ctx, importer.InboxStoreParams{OrgID: e.org.ID, Name: put.name,
				File: strings.NewReader(signed(put.name))}); err != nil {
				t.Fatal(err)
			}
		}
		// A client's rename into place is an arrival too.
		if _, err := ahead.InboxStore(ctx, importer.InboxStoreParams{OrgID: e.org.ID, Name: "third.csv.part",
			File: strings.NewReader(signed("third"))}); err != nil {
			t.Fatal(err)
		}
		taken, err := behind.ImportInbox(ctx, importer.ImportInboxParams{OrgID: e.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if taken.Import == nil || taken.Import.FileName != "second.csv" || len(taken.Superseded) != 1 || taken.Superseded[0].FileName != "first.csv" {
			t.Fatalf("sync took %+v; want second.csv, superseding first.csv", taken)
		}
		// The fast daemon completes fourth.csv, then the slow one renames
		// third.csv.part into place: the rename is the newer arrival.
		if _, err := ahead.InboxStore(ctx, importer.InboxStoreParams{OrgID: e.org.ID, Name: "fourth.csv",
			File: strings.NewReader(signed("fourth"))}); err != nil {
			t.Fatal(err)
		}
		if err := behind.InboxRename(ctx, importer.InboxRenameParams{OrgID: e.org.ID, From: "third.csv.part", To: "fifth.csv"}); err != nil {
			t.Fatal(err)
		}
		taken, err = behind.ImportInbox(ctx, importer.ImportInboxParams{OrgID: e.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if taken.Import == nil || taken.Import.FileName != "fifth.csv" || len(taken.Superseded) != 1 || taken.Superseded[0].FileName != "fourth.csv" {
			t.Fatalf("second sync took %+v; want fifth.csv (renamed into place last), superseding fourth.csv", taken)
		}
	})
}
