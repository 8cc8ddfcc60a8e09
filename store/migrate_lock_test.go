package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestMigrationLockIsPerSchema: on PostgreSQL, a daemon migrating one
// schema holds back another daemon of that schema, and no daemon of
// another schema of the same database (the tests, one schema each, and
// deployments sharing a database).
func TestMigrationLockIsPerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	open := func() *store.DB {
		db, err := store.Open(ctx, storetest.URL(t, store.Postgres))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	idA, err := a.MigrationLockID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if idB, err := b.MigrationLockID(ctx); err != nil || idA == idB {
		t.Fatalf("lock ids %d and %d (%v): want one per schema", idA, idB, err)
	}
	// Another session of schema a's database holds a's lock, as a daemon
	// migrating it would.
	holder, err := a.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, idA); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Migrate(ctx); err != nil {
		t.Fatalf("migrate schema b while a's lock is held: %v", err)
	}
	waiting, cancel := context.WithTimeout(ctx, 2500*time.Millisecond)
	defer cancel()
	if _, err := a.Migrate(waiting); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("migrate schema a while its lock is held = %v, want it still waiting after 2.5s", err)
	}
	if _, err := holder.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, idA); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Migrate(ctx); err != nil || n == 0 {
		t.Fatalf("migrate schema a once its lock is free = %d, %v", n, err)
	}
}
