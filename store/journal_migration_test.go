package store_test

import (
	"context"
	"fmt"
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
			now := time.Now().UTC()
			importsBefore(t, db, org.ID, now, "", "imp_a", "imp_b")
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

// TestJournalCreatedMigration: migration 00019 moves an applied import's
// created entries into the users it created (and one mark), and nothing a
// reader sees changes: the import's created entries (line, actor, time),
// its counts, searched too, and each user's history, with the created entry
// in its place among the others. A dry run's created entries (a preview:
// nobody was created) and an import whose created user is not found stay
// rows, read as before.
func TestJournalCreatedMigration(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := openMigratedTo(t, d, 18)
			org := store.NewOrg("acme", "Acme")
			if err := store.OrgCreate(ctx, db, &org); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Second)
			importsBefore(t, db, org.ID, now, "imp_b", "imp_0", "imp_a", "imp_b", "imp_c", "imp_d")
			for _, u := range []struct{ ext, first, last string }{{"E1", "Ada", "Lovelace"}, {"E2", "Alan", "Turing"}} {
				if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO users (org_id, external_id, id_key, first_name, last_name,
					status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', ?, ?)`),
					org.ID, u.ext, strings.ToLower(u.ext), u.first, u.last, now, now); err != nil {
					t.Fatal(err)
				}
			}
			created := now.Add(-2 * time.Hour)
			for _, e := range []struct {
				imp     any
				kind    string
				ext     string
				line    any
				preview bool
				at      time.Time
			}{
				{"imp_0", "failed", "E1", 2, false, created.Add(-time.Hour)}, // before E1 was created
				{"imp_a", "created", "E1", 2, false, created},
				{"imp_a", "created", "E2", 3, false, created},
				{"imp_b", "created", "E3", 2, true, now}, // a dry run's preview
				{"imp_c", "updated", "E1", 2, false, now},
				{nil, "archived", "E2", nil, false, now.Add(-time.Hour)}, // an admin's manual archive
				{"imp_d", "created", "E9", 2, false, now},                // E9 is nowhere
			} {
				if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO changes (org_id, import_seq, kind, external_id, first_name,
					last_name, line, preview, actor, at) VALUES (?, (SELECT seq FROM imports WHERE id = ?), ?, ?, 'Ada', 'Lovelace',
					?, ?, 'admin@acme.test', ?)`), org.ID, e.imp, e.kind, e.ext, e.line, e.preview, e.at); err != nil {
					t.Fatal(err)
				}
			}

			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var moved int
			if err := db.GetContext(ctx, &moved, `SELECT COUNT(*) FROM changes WHERE kind = 'created'`); err != nil {
				t.Fatal(err)
			}
			if moved != 2 {
				t.Errorf("%d created entries are rows after the upgrade; want 2 (the dry run's and E9's)", moved)
			}
			list := func(imp, q string) string {
				t.Helper()
				page, err := store.ChangeList(ctx, db, store.ChangeListParams{OrgID: org.ID, ImportID: imp, Q: q, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, c := range page {
					got = append(got, fmt.Sprintf("%s:%s:%s:%s:line %d:%s:%v:preview=%v", c.ImportID, c.Kind, c.ExternalID,
						c.FirstName, c.Line, c.Actor, c.At.UTC().Equal(created), c.Preview))
				}
				return strings.Join(got, " ")
			}
			if got, want := list("imp_a", ""), "imp_a:created:E1:Ada:line 2:admin@acme.test:true:preview=false "+
				"imp_a:created:E2:Alan:line 3:admin@acme.test:true:preview=false"; got != want {
				t.Errorf("imp_a's changes after the upgrade:\n%s\nwant\n%s", got, want)
			}
			if got, want := list("imp_a", "turing"), "imp_a:created:E2:Alan:line 3:admin@acme.test:true:preview=false"; got != want {
				t.Errorf("imp_a's changes searched for turing: %s; want %s", got, want)
			}
			if got, want := list("imp_b", ""), "imp_b:created:E3:Ada:line 2:admin@acme.test:false:preview=true"; got != want {
				t.Errorf("the dry run's changes: %s; want %s", got, want)
			}
			if got, want := list("imp_d", ""), "imp_d:created:E9:Ada:line 2:admin@acme.test:false:preview=false"; got != want {
				t.Errorf("imp_d's changes: %s; want %s", got, want)
			}
			for q, want := range map[string]int{"": 2, "alan": 1, "nobody": 0} {
				counts, err := store.ChangeCounts(ctx, db, org.ID, "imp_a", q)
				if err != nil {
					t.Fatal(err)
				}
				if counts["created"] != want || len(counts) > 1 {
					t.Errorf("imp_a's counts for %q: %v; want %d created, nothing else", q, counts, want)
				}
			}
			for ext, want := range map[string]string{"E1": "imp_c:updated imp_a:created imp_0:failed", "E2": ":archived imp_a:created"} {
				hist, err := store.UserHistory(ctx, db, store.UserHistoryParams{OrgID: org.ID, ExternalID: ext, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, c := range hist {
					got = append(got, c.ImportID+":"+c.Kind)
				}
				if strings.Join(got, " ") != want {
					t.Errorf("%s's history after the upgrade, newest first: %v; want %s", ext, got, want)
				}
				// Paged one at a time, the created entry comes second, once.
				hist, err = store.UserHistory(ctx, db, store.UserHistoryParams{OrgID: org.ID, ExternalID: ext, Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				next, err := store.UserHistory(ctx, db, store.UserHistoryParams{OrgID: org.ID, ExternalID: ext, Limit: 1, Before: hist[0].ID})
				if err != nil {
					t.Fatal(err)
				}
				if len(hist) != 1 || len(next) != 1 || next[0].Kind != "created" {
					t.Errorf("%s's history a page of one at a time: %v then %v; want the created entry second", ext, hist, next)
				}
			}
		})
	}
}

// importsBefore records succeeded full syncs with the given ids, in that
// order, by SQL valid from migration 00015 on; dryRun names
// the one that is a dry run ("" none).
func importsBefore(t *testing.T, db *store.DB, orgID int64, at time.Time, dryRun string, ids ...string) {
	t.Helper()
	ctx := context.Background()
	f, err := store.FileCreate(ctx, db, orgID, "roster.csv", strings.NewReader("external_id\nE1\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO imports (id, org_id, door, mode, dry_run, file_name, file_id,
			file_sha256, size_bytes, status, warnings, archive_approved, created_at, actor, reverts, seq)
			VALUES (?, ?, 'sftp', 'full', ?, 'roster.csv', ?, ?, ?, 'succeeded', '[]', ?, ?, '', '',
			(SELECT COALESCE(MAX(seq), 0) + 1 FROM imports))`),
			id, orgID, id == dryRun, f.ID, f.SHA256, f.SizeBytes, false, at); err != nil {
			t.Fatal(err)
		}
	}
}
