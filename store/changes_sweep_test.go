package store_test

import (
	"context"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

// journalOf gives an import n entries of a kind, as its run would.
func journalOf(t *testing.T, db *store.DB, im *store.Import, kind string, preview bool, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := store.ChangeAdd(context.Background(), db, &store.Change{OrgID: im.OrgID, ImportID: im.ID, Kind: kind,
			ExternalID: id, Preview: preview, Actor: "cli", At: *im.FinishedAt}); err != nil {
			t.Fatal(err)
		}
	}
}

// manualEntry records an admin's manual archive of id at at.
func manualEntry(t *testing.T, db *store.DB, orgID int64, id string, at time.Time) {
	t.Helper()
	if err := store.ChangeAdd(context.Background(), db, &store.Change{OrgID: orgID, Kind: store.ChangeArchived,
		ExternalID: id, Actor: "ann@example.com", At: at}); err != nil {
		t.Fatal(err)
	}
}

func journalCount(t *testing.T, db *store.DB, im *store.Import) int {
	t.Helper()
	counts, err := store.ChangeCounts(context.Background(), db, im.OrgID, im.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	return total
}

func historyOf(t *testing.T, db *store.DB, orgID int64, id string) int {
	t.Helper()
	h, err := store.UserHistory(context.Background(), db, store.UserHistoryParams{OrgID: orgID, ExternalID: id, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(h)
}

// journal_retention: the journal of an import that finished longer ago
// is deleted and the import says so (journal_expired_at); a newer import's
// journal, a held sync's preview (its approver reads it) and the manual
// entries within retention stay; manual entries older go. A second sweep
// finds nothing more.
func TestChangesSweep(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		cutoff := now.AddDate(0, 0, -400)

		old := finishedImport(t, db, org.ID, store.ImportSucceeded, now.AddDate(0, 0, -401), false)
		journalOf(t, db, old, store.ChangeCreated, false, "1", "2", "3")
		journalOf(t, db, old, store.ChangeUpdated, false, "4")
		oldDryRun := finishedImport(t, db, org.ID, store.ImportSucceeded, now.AddDate(0, 0, -500), false)
		journalOf(t, db, oldDryRun, store.ChangeCreated, true, "5")
		recent := finishedImport(t, db, org.ID, store.ImportCompletedWithErrors, now.AddDate(0, 0, -399), false)
		journalOf(t, db, recent, store.ChangeArchived, false, "1")
		journalOf(t, db, recent, store.ChangeFailed, false, "9")
		held := finishedImport(t, db, org.ID, store.ImportHeld, now.AddDate(0, 0, -401), false)
		journalOf(t, db, held, store.ChangeArchived, true, "2", "3")
		manualEntry(t, db, org.ID, "7", now.AddDate(0, 0, -401))
		manualEntry(t, db, org.ID, "8", now.AddDate(0, 0, -10))

		n, err := store.ChangesSweep(ctx, db, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		if n != 4+1+1 {
			t.Errorf("swept %d entries, want 6 (the old import's 4, the old dry run's preview, one manual entry)", n)
		}
		for _, c := range []struct {
			name    string
			im      *store.Import
			entries int
			expired bool
		}{{"import finished 401 days ago", old, 0, true}, {"dry run finished 500 days ago", oldDryRun, 0, true},
			{"import finished 399 days ago", recent, 2, false}, {"held sync", held, 2, false}} {
			if got := journalCount(t, db, c.im); got != c.entries {
				t.Errorf("%s: %d journal entries after the sweep, want %d", c.name, got, c.entries)
			}
			im, err := store.ImportGet(ctx, db, org.ID, c.im.ID)
			if err != nil {
				t.Fatal(err)
			}
			if (im.JournalExpiredAt != nil) != c.expired {
				t.Errorf("%s: journal_expired_at = %v, want set: %v", c.name, im.JournalExpiredAt, c.expired)
			}
			if im.Status != c.im.Status {
				t.Errorf("%s: status %s after the sweep, want %s (the record stays)", c.name, im.Status, c.im.Status)
			}
		}
		if got := historyOf(t, db, org.ID, "7"); got != 0 {
			t.Errorf("manual archive 401 days ago: %d history entries after the sweep, want 0", got)
		}
		if got := historyOf(t, db, org.ID, "8"); got != 1 {
			t.Errorf("manual archive 10 days ago: %d history entries after the sweep, want 1", got)
		}
		if got := historyOf(t, db, org.ID, "1"); got != 1 {
			t.Errorf("user 1: %d history entries after the sweep, want 1 (the recent import's archive)", got)
		}

		if n, err := store.ChangesSweep(ctx, db, cutoff); err != nil || n != 0 {
			t.Errorf("second sweep = %d, %v; want nothing left to delete", n, err)
		}
	})
}
