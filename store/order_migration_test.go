package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestAcceptanceOrderMigration: a database upgraded to migration 00014
// keeps the order its imports had (by id) and its /in/ had (by
// modification time), and the imports and files recorded after it come
// after every one before it.
func TestAcceptanceOrderMigration(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := openMigratedTo(t, d, 13)
			org := createOrgBefore17(t, db)
			f, err := store.FileCreate(ctx, db, org.ID, "roster.csv", strings.NewReader("external_id\nE1\n"), 0)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			for _, id := range []string{"imp_b", "imp_a", "imp_c"} { // recorded out of id order
				if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO imports (id, org_id, door, mode, dry_run, file_name, file_id,
					file_sha256, size_bytes, status, warnings, archive_approved, created_at, actor, reverts)
					VALUES (?, ?, 'sftp', 'full', ?, 'roster.csv', ?, ?, ?, 'succeeded', '[]', ?, ?, '', '')`),
					id, org.ID, false, f.ID, f.SHA256, f.SizeBytes, false, now); err != nil {
					t.Fatal(err)
				}
			}
			put := func(q sqlx.ExtContext, name string, modified time.Time) {
				t.Helper()
				g, err := store.FileCreate(ctx, db, org.ID, name, strings.NewReader("external_id\nE1\n"), 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := q.ExecContext(ctx, db.Rebind(`INSERT INTO sftp_inbox (org_id, name, file_id, size_bytes, modified_at)
					VALUES (?, ?, ?, ?, ?)`), org.ID, name, g.ID, g.SizeBytes, modified); err != nil {
					t.Fatal(err)
				}
			}
			put(db, "later.csv", now.Add(time.Minute))
			put(db, "earlier.csv", now)

			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			im := &store.Import{OrgID: org.ID, Door: store.DoorSFTP, Mode: "full", FileName: "roster.csv", FileID: f.ID,
				FileSHA256: f.SHA256, SizeBytes: f.SizeBytes, CreatedAt: now.Add(-time.Hour)}
			if err := store.ImportCreate(ctx, db, im); err != nil {
				t.Fatalf("an import after the migration: %v", err)
			}
			list, err := store.ImportList(ctx, db, store.ImportListParams{OrgID: org.ID})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range list {
				got = append(got, l.ID)
			}
			if want := []string{im.ID, "imp_c", "imp_b", "imp_a"}; strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("imports, newest first: %v; want %v", got, want)
			}
			in := &store.InboxFile{OrgID: org.ID, Name: "newest.csv", FileID: f.ID, SizeBytes: f.SizeBytes, ModifiedAt: now.Add(-time.Hour)}
			if err := store.InboxPut(ctx, db, in); err != nil {
				t.Fatalf("a file in /in/ after the migration: %v", err)
			}
			files, err := store.InboxList(ctx, db, org.ID)
			if err != nil {
				t.Fatal(err)
			}
			seq := map[string]int64{}
			for _, f := range files {
				seq[f.Name] = f.Seq
			}
			if !(seq["earlier.csv"] < seq["later.csv"] && seq["later.csv"] < seq["newest.csv"]) {
				t.Errorf("/in/ seq %v; want earlier.csv, later.csv, then newest.csv", seq)
			}
		})
	}
}

// openMigratedTo opens a database of dialect d migrated up to version
// alone: the schema an upgrade starts from.
func openMigratedTo(t *testing.T, d store.Dialect, version int64) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.URL(t, d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MigrateUpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return db
}

// createOrgBefore17 records an organisation in a schema older than
// migration 00017, which added the PGP settings store.OrgCreate writes.
func createOrgBefore17(t *testing.T, db *store.DB) store.Org {
	t.Helper()
	org := store.NewOrg("acme", "Acme")
	now := time.Now().UTC()
	err := db.QueryRowxContext(context.Background(), db.Rebind(`INSERT INTO organisations (slug, name, created_at, updated_at)
		VALUES (?, ?, ?, ?) RETURNING id`), org.Slug, org.Name, now, now).Scan(&org.ID)
	if err != nil {
		t.Fatal(err)
	}
	return org
}
