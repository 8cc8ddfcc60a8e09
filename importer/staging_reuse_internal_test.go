package importer

import (
	"context"
	"slices"
	"strings"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// On PostgreSQL an import's staging tables stay with its connection: the
// next import on it uses the same tables (no catalogue rows written or
// deleted), finds them empty, and builds its indexes again.
func TestPostgresStagingIsReusedEmpty(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	conn, err := db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	type rel struct {
		Name string `db:"relname"`
		OID  int64  `db:"oid"`
	}
	var before []rel
	for i := range 3 {
		tx, err := conn.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		// A failure below ends the test: the transaction must end before
		// the connection is closed.
		defer func() { _ = tx.Rollback() }()
		staging := copyTx{Tx: tx, conn: conn}
		if err := createStaging(ctx, staging, store.Postgres); err != nil {
			t.Fatalf("import %d: %v", i+1, err)
		}
		var left int
		if err := tx.GetContext(ctx, &left, `SELECT (SELECT count(*) FROM stage_rows) + (SELECT count(*) FROM stage_plan)`); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("import %d finds %d rows in its staging, want none", i+1, left)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stage_rows (line, external_id, id_key, failed, skip) VALUES (2, 'E1', 'e1', 0, 0)`); err != nil {
			t.Fatal(err)
		}
		cols := append(append([]string{"line", "external_id", "id_key", "action", "manager_changed", "status", "row_hash"},
			plainColumns...), localizedColumns...)
		vals := append([]string{"2", "'E1'", "'e1'", "'create'", "0", "'active'", "'h'"},
			slices.Repeat([]string{"''"}, len(plainColumns)+len(localizedColumns))...)
		if _, err := tx.ExecContext(ctx, `INSERT INTO stage_plan (`+strings.Join(cols, ", ")+`) VALUES (`+strings.Join(vals, ", ")+`)`); err != nil {
			t.Fatal(err)
		}
		// Every index an import may build, as a changed full sync does.
		if err := indexStaging(ctx, staging, store.Postgres); err != nil {
			t.Fatalf("import %d: %v", i+1, err)
		}
		for _, q := range []string{
			`CREATE INDEX stage_rows_new_id_key ON stage_rows (id_key) WHERE skip = 0`,
			`CREATE INDEX stage_plan_external_id ON stage_plan (external_id)`,
			`CREATE INDEX stage_plan_business_email ON stage_plan (business_email)`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				t.Fatalf("import %d: %s: %v", i+1, q, err)
			}
		}
		if err := unindexStaging(ctx, staging); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var rels []rel
		if err := conn.SelectContext(ctx, &rels, `SELECT relname, oid::bigint AS oid FROM pg_class
			WHERE relnamespace = pg_my_temp_schema() AND relkind IN ('r', 'i') ORDER BY relname`); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rels {
			names = append(names, r.Name)
			if slices.Contains(stagingIndexes, r.Name) {
				t.Errorf("after import %d the index %s is left", i+1, r.Name)
			}
		}
		for _, table := range stagingTables {
			if !slices.Contains(names, table) {
				t.Errorf("after import %d the connection has no %s: %v", i+1, table, names)
			}
		}
		if i == 0 {
			before = rels
		} else if !slices.Equal(rels, before) {
			t.Errorf("after import %d the staging relations are %v, want the first import's %v", i+1, rels, before)
		}
	}
}
