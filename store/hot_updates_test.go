package store_test

import (
	"context"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

// Users written before migration 00007 (no search) are filled when a
// database is migrated to the latest, and the fill is marked so that later
// starts do not read the users table again. On PostgreSQL a rename is then
// a HOT update (migration 00022): no index names search, and a page written
// since keeps room for a new version.
func TestUsersSearchFilledThenRenamesAreHOT(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := openMigratedTo(t, d, 6)
			org := createOrgBefore17(t, db)
			now := time.Now().UTC()
			for _, id := range []string{"E1", "E2"} {
				if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO users (org_id, external_id, id_key, first_name, last_name, created_at, updated_at)
					VALUES (?, ?, ?, 'Zoë', 'Ångström', ?, ?)`), org.ID, id, id, now, now); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var unfilled, marks int
			if err := db.GetContext(ctx, &unfilled, `SELECT COUNT(*) FROM users WHERE search IS NULL`); err != nil {
				t.Fatal(err)
			}
			if err := db.GetContext(ctx, &marks, `SELECT COUNT(*) FROM store_backfills WHERE name = 'users_search'`); err != nil {
				t.Fatal(err)
			}
			if unfilled != 0 || marks != 1 {
				t.Fatalf("after migrating users from before 00007: %d without search, %d fill marks; want 0 and 1", unfilled, marks)
			}
			// Marked: a user left without search (which no writer does) is not
			// looked for again.
			if _, err := db.ExecContext(ctx, `UPDATE users SET search = NULL WHERE external_id = 'E2'`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := db.GetContext(ctx, &unfilled, `SELECT COUNT(*) FROM users WHERE search IS NULL`); err != nil || unfilled != 1 {
				t.Errorf("a marked database was searched for users to fill again (%d left without search, %v)", unfilled, err)
			}
			if d != store.Postgres {
				return
			}
			var options string
			if err := db.GetContext(ctx, &options, `SELECT COALESCE(array_to_string(reloptions, ','), '') FROM pg_class
				WHERE oid = 'users'::regclass`); err != nil || options != "fillfactor=90" {
				t.Errorf("users' storage options = %q (%v), want fillfactor=90", options, err)
			}
			tx, err := db.BeginTxx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			// The transaction's counts (pg_stat_xact_user_tables) may include
			// this connection's earlier ones not yet reported: the rename's are
			// what it adds.
			counts := func() (hot, all int) {
				if err := tx.QueryRowxContext(ctx, `SELECT n_tup_hot_upd, n_tup_upd FROM pg_stat_xact_user_tables
					WHERE relid = 'users'::regclass`).Scan(&hot, &all); err != nil {
					t.Fatal(err)
				}
				return hot, all
			}
			hot0, all0 := counts()
			if _, err := tx.ExecContext(ctx, `UPDATE users SET last_name = 'Berg', search = 'e1 zoe berg', updated_at = now() WHERE external_id = 'E1'`); err != nil {
				t.Fatal(err)
			}
			hot1, all1 := counts()
			if all1-all0 != 1 || hot1-hot0 != 1 {
				t.Errorf("a rename: %d of %d updates HOT, want 1 of 1 (an index naming search, or a full page, prevents it)", hot1-hot0, all1-all0)
			}
		})
	}
}
