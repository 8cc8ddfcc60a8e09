package importer_test

import (
	"context"
	"strings"
	"testing"

	"rosterd/store"
)

// userWrites counts rewrites of users with a trigger in the database, so a
// test sees every UPDATE that sets a user's data, whatever the values and
// whatever the clock: an unchanged row written again with the same values
// and the same updated_at is still a write. The one column left out is
// source_hash, the fingerprint an unchanged row may record for the next sync
// (that write leaves the user as it was).
type userWrites struct {
	t  *testing.T
	db *store.DB
}

// countUserWrites installs the trigger; from now on every rewrite of a user
// is recorded.
func (e *env) countUserWrites() *userWrites {
	e.t.Helper()
	ctx := context.Background()
	var cols []string
	q := `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'users'`
	if e.db.Dialect == store.SQLite {
		q = `SELECT name FROM pragma_table_info('users')`
	}
	if err := e.db.SelectContext(ctx, &cols, q); err != nil {
		e.t.Fatal(err)
	}
	var data []string
	for _, c := range cols {
		if c != "source_hash" {
			data = append(data, c)
		}
	}
	if len(data) < 10 {
		e.t.Fatalf("users has columns %v: the schema query found too few", cols)
	}
	stmts := []string{`CREATE TABLE test_user_writes (seq INTEGER PRIMARY KEY, external_id TEXT NOT NULL)`}
	if e.db.Dialect == store.SQLite {
		stmts = append(stmts, `CREATE TRIGGER test_user_writes AFTER UPDATE OF `+strings.Join(data, ", ")+` ON users
			BEGIN INSERT INTO test_user_writes (external_id) VALUES (NEW.external_id); END`)
	} else {
		stmts = []string{`CREATE TABLE test_user_writes (seq INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY, external_id TEXT NOT NULL)`,
			`CREATE FUNCTION test_user_writes() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN INSERT INTO test_user_writes (external_id) VALUES (NEW.external_id); RETURN NULL; END $$`,
			`CREATE TRIGGER test_user_writes AFTER UPDATE OF ` + strings.Join(data, ", ") + ` ON users
			FOR EACH ROW EXECUTE FUNCTION test_user_writes()`}
	}
	for _, s := range stmts {
		if _, err := e.db.ExecContext(ctx, s); err != nil {
			e.t.Fatalf("install the write counter: %v", err)
		}
	}
	return &userWrites{t: e.t, db: e.db}
}

// take returns the external ids of the users rewritten since the last take,
// in order, and starts counting afresh.
func (w *userWrites) take() []string {
	w.t.Helper()
	var ids []string
	if err := w.db.Select(&ids, `SELECT external_id FROM test_user_writes ORDER BY seq`); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.db.Exec(`DELETE FROM test_user_writes`); err != nil {
		w.t.Fatal(err)
	}
	return ids
}
