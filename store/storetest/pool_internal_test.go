package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"rosterd/store"
)

func schemaOf(t *testing.T, db *store.DB) string {
	t.Helper()
	var s string
	if err := db.QueryRow(`SELECT current_schema()`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func schemaExists(t *testing.T, name string) bool {
	t.Helper()
	var n int
	if err := adminDB(t).QueryRow(`SELECT count(*) FROM pg_namespace WHERE nspname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func poolOrSkip(t *testing.T) *pgPool {
	t.Helper()
	tpl := template(t, store.Postgres)
	if tpl.err != nil {
		t.Skipf("no copies here, every test migrates its own schema: %v", tpl.err)
	}
	if tpl.pool == nil {
		t.Skip("copies are not reused here: the test role is not a superuser (see the test log)")
	}
	return tpl.pool
}

// TestGivenBackCopiesAreAsNew: a PostgreSQL copy a test gave back goes to
// the next test as a fresh copy would: no row of the last test, sequences
// from the start, the same objects as a migrated database. A copy whose
// schema a test changed, or whose connections a test left open, is not
// handed on as it was. Not parallel: each step takes what the step before
// gave back.
func TestGivenBackCopiesAreAsNew(t *testing.T) {
	poolOrSkip(t)
	ctx := context.Background()
	var first string
	t.Run("writes", func(t *testing.T) {
		db := Open(t, store.Postgres)
		first = schemaOf(t, db)
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		if _, err := store.AdminCreateCost(ctx, db, org.ID, "a@example.com", "pw-pw-pw-pw", bcrypt.MinCost); err != nil {
			t.Fatal(err)
		}
		// River's leader, an UNLOGGED table: a test whose client did not
		// resign in time leaves it, and the next test's client could not
		// lead until it expired.
		if _, err := db.Exec(`INSERT INTO river_leader (elected_at, expires_at, leader_id, name)
			VALUES (now(), now() + interval '1 hour', 'gone', 'default')`); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("reuses", func(t *testing.T) {
		db := Open(t, store.Postgres)
		if got := schemaOf(t, db); got != first {
			t.Fatalf("got schema %s, want %s given back by the test before", got, first)
		}
		var orgs int
		if err := db.Get(&orgs, `SELECT count(*) FROM organisations`); err != nil || orgs != 0 {
			t.Fatalf("%d organisations (%v) left from the test before, want none", orgs, err)
		}
		fresh := OpenMigrated(t, store.Postgres)
		if got, want := tableCounts(t, db), tableCounts(t, fresh); got != want {
			t.Fatalf("rows by table of a reused copy: %s\nof a migrated database: %s", got, want)
		}
		got, want := Describe(t, db), Describe(t, fresh)
		for i := range max(len(got), len(want)) {
			if i >= len(got) || i >= len(want) || got[i] != want[i] {
				t.Fatalf("a reused copy differs from a migrated database at line %d:\n%s\nwant\n%s", i+1, strings.Join(got[i:min(i+3, len(got))], "\n"), strings.Join(want[i:min(i+3, len(want))], "\n"))
			}
		}
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatalf("the same organisation again: %v", err)
		}
		a, err := store.AdminCreateCost(ctx, db, org.ID, "a@example.com", "pw-pw-pw-pw", bcrypt.MinCost)
		if err != nil || a.ID != 1 {
			t.Fatalf("admin id %v (%v), want 1: sequences start again", a, err)
		}
	})
	var altered string
	t.Run("alters", func(t *testing.T) {
		db := Open(t, store.Postgres)
		altered = schemaOf(t, db)
		if _, err := db.Exec(`CREATE INDEX users_extra ON users (first_name)`); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("after an altered copy", func(t *testing.T) {
		db := Open(t, store.Postgres)
		if got := schemaOf(t, db); got == altered {
			t.Fatalf("the copy with an index of its own (%s) was handed on", altered)
		}
		if schemaExists(t, altered) {
			t.Errorf("the altered copy %s was kept", altered)
		}
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'users_extra'`); err != nil || n != 0 {
			t.Errorf("the next copy has the index (%d, %v)", n, err)
		}
	})
	var (
		leaked       *store.DB
		leakedTx     *sql.Tx
		leakedSchema string
	)
	t.Run("leaves a connection in a transaction", func(t *testing.T) {
		db := Open(t, store.Postgres)
		leakedSchema = schemaOf(t, db)
		var err error
		if leaked, err = store.Open(ctx, schemaURL(leakedSchema)+"&application_name="+leakedSchema); err != nil {
			t.Fatal(err)
		}
		if leakedTx, err = leaked.Begin(); err != nil {
			t.Fatal(err)
		}
		if _, err := leakedTx.Exec(`LOCK TABLE organisations IN ACCESS EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
	})
	defer leaked.Close()
	t.Run("after a leaked connection", func(t *testing.T) {
		db := Open(t, store.Postgres)
		if got := schemaOf(t, db); got != leakedSchema {
			t.Fatalf("got %s, want %s back, its connection ended", got, leakedSchema)
		}
		var orgs int
		if err := db.Get(&orgs, `SELECT count(*) FROM organisations`); err != nil || orgs != 0 {
			t.Fatalf("organisations: %d, %v", orgs, err)
		}
		if _, err := leakedTx.Exec(`SELECT 1 FROM organisations`); err == nil {
			t.Error("the leaked transaction still works in the next test's database")
		}
	})
}

// TestSweepDropsCopiesOfBinariesGone: copies left by a test binary that
// is gone (killed, or no storetest.Main) are dropped by the next binary;
// those of a binary still running are not.
func TestSweepDropsCopiesOfBinariesGone(t *testing.T) {
	p := poolOrSkip(t)
	ctx := context.Background()
	admin := adminDB(t)
	gone, alive := poolPrefix+"0000dead_1", poolPrefix+"0000a11e_1"
	for _, s := range []string{gone, alive} {
		if _, err := admin.Exec(`CREATE SCHEMA ` + s); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Exec(`DROP SCHEMA IF EXISTS ` + s + ` CASCADE`) })
	}
	other, err := admin.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, `SELECT pg_advisory_lock(`+poolLockKey("0000a11e")+`)`); err != nil {
		t.Fatal(err)
	}
	p.sweep(ctx)
	if schemaExists(t, gone) {
		t.Errorf("%s, whose binary is gone, was kept", gone)
	}
	if !schemaExists(t, alive) {
		t.Errorf("%s, whose binary holds its lock, was dropped", alive)
	}
}

// tableCounts is every table of db's schema with its number of rows.
func tableCounts(t *testing.T, db *store.DB) string {
	t.Helper()
	var tables []string
	if err := db.Select(&tables, `SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace
		AND relkind IN ('r', 'p') ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, name := range tables {
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM `+name); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %d, ", name, n)
	}
	return b.String()
}
