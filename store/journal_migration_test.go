package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestJournalImportSeqMigration: a database upgraded to migration 00016
// (the journal linked to its import by seq) keeps every entry linked: an
// import's changes page, a user's history and the retention sweep of
// manual entries read what they read before the upgrade, and entries
// written after it join them.
func TestJournalImportSeqMigration(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := openMigratedTo(t, d, 15)
			org := createOrgBefore17(t, db)
			f, err := store.FileCreate(ctx, db, org.ID, "roster.csv", strings.NewReader("external_id\nE1\n"), 0)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			for _, id := range []string{"imp_a", "imp_b"} {
				if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO imports (id, org_id, door, mode, dry_run, file_name, file_id,
					file_sha256, size_bytes, status, warnings, archive_approved, created_at, actor, reverts, seq)
					VALUES (?, ?, 'sftp', 'full', ?, 'roster.csv', ?, ?, ?, 'succeeded', '[]', ?, ?, '', '',
					(SELECT COALESCE(MAX(seq), 0) + 1 FROM imports))`),
					id, org.ID, false, f.ID, f.SHA256, f.SizeBytes, false, now); err != nil {
					t.Fatal(err)
				}
			}
			old := now.Add(-48 * time.Hour)
			for _, e := range []struct {
				imp  any
				kind string
				ext  string
				at   time.Time
			}{
				{"imp_a", "created", "E1", now},
				{"imp_a", "created", "E2", now},
				{"imp_b", "updated", "E1", now},
				{nil, "archived", "E2", old}, // an admin's manual archive, two days ago
			} {
				if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO changes (org_id, import_id, kind, external_id, first_name,
					last_name, preview, actor, at) VALUES (?, ?, ?, ?, 'Ada', 'Lovelace', ?, 'admin@acme.test', ?)`),
					org.ID, e.imp, e.kind, e.ext, false, e.at); err != nil {
					t.Fatal(err)
				}
			}

			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			page, err := store.ChangeList(ctx, db, store.ChangeListParams{OrgID: org.ID, ImportID: "imp_a", Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range page {
				got = append(got, c.ImportID+":"+c.Kind+":"+c.ExternalID)
			}
			if want := "imp_a:created:E1 imp_a:created:E2"; strings.Join(got, " ") != want {
				t.Errorf("imp_a's changes after the upgrade: %v; want %s", got, want)
			}
			if err := store.ChangeAdd(ctx, db, &store.Change{OrgID: org.ID, ImportID: "imp_b", Kind: "restored",
				ExternalID: "E2", Actor: "cli", At: now}); err != nil {
				t.Fatal(err)
			}
			hist, err := store.UserHistory(ctx, db, store.UserHistoryParams{OrgID: org.ID, ExternalID: "E2", Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			got = nil
			for _, c := range hist {
				got = append(got, c.ImportID+":"+c.Kind)
			}
			if want := "imp_b:restored :archived imp_a:created"; strings.Join(got, " ") != want {
				t.Errorf("E2's history after the upgrade, newest first: %v; want %s", got, want)
			}
			counts, err := store.ChangeCounts(ctx, db, org.ID, "imp_b", "")
			if err != nil {
				t.Fatal(err)
			}
			if counts["updated"] != 1 || counts["restored"] != 1 || len(counts) != 2 {
				t.Errorf("imp_b's counts: %v; want 1 updated, 1 restored", counts)
			}
			n, err := store.ChangesSweep(ctx, db, now.Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("the sweep deleted %d entries; want 1: the manual archive, older than the cut", n)
			}
		})
	}
}
