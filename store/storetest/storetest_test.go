package storetest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestCopyIsWhatMigrationsMake: the database Open gives a test (a copy of
// one migrated once per test binary) holds exactly what migrating a fresh
// database makes: every table, column, index, constraint, trigger, function,
// sequence and type, and the rows of goose's and River's version tables.
// Should the copy drift (a migration pg_dump would not replay, a SQLite
// setting the file does not keep), the tests would run against a schema
// rosterd never has; this fails first.
func TestCopyIsWhatMigrationsMake(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			if err := storetest.TemplateErr(t, d); err != nil {
				t.Skipf("no copy here, every test migrates its own database: %v", err)
			}
			copied := describe(t, storetest.Open(t, d))
			fresh := describe(t, storetest.OpenMigrated(t, d))
			if len(fresh) < 40 {
				t.Fatalf("a migrated %s database described in %d lines: the description misses it:\n%s", d, len(fresh), strings.Join(fresh, "\n"))
			}
			for i := 0; i < max(len(copied), len(fresh)); i++ {
				var c, f string
				if i < len(copied) {
					c = copied[i]
				}
				if i < len(fresh) {
					f = fresh[i]
				}
				if c != f {
					t.Fatalf("the copy differs from a migrated %s database at line %d:\ncopy:     %s\nmigrated: %s", d, i+1, c, f)
				}
			}
		})
	}
}

// describe lists what the database holds, one sorted line per object, the
// test's own schema name written as S.
func describe(t *testing.T, db *store.DB) []string {
	t.Helper()
	var queries []string
	if db.Dialect == store.SQLite {
		queries = []string{
			`SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name`,
			`SELECT 'journal_mode', journal_mode FROM pragma_journal_mode`,
			`SELECT 'user_version', user_version FROM pragma_user_version`,
			`SELECT 'auto_vacuum', auto_vacuum FROM pragma_auto_vacuum`,
			`SELECT 'page_size', page_size FROM pragma_page_size`,
		}
	} else {
		queries = []string{
			`SELECT c.relname, c.relkind, c.relpersistence, coalesce(obj_description(c.oid, 'pg_class'), '')
			 FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace ORDER BY 1`,
			// A column's rank, not its number: a dropped column leaves a
			// gap in the numbers of a migrated table that a copy has not.
			`SELECT table_name, rank() OVER (PARTITION BY table_name ORDER BY ordinal_position), column_name, data_type, udt_name, is_nullable,
			        coalesce(column_default, ''), is_identity, coalesce(identity_generation, ''), coalesce(collation_name, '')
			 FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 2`,
			`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1, 2`,
			`SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
			 FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2`,
			`SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger
			 WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace) ORDER BY 1, 2`,
			`SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
			 FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace ORDER BY 1, 2`,
			`SELECT t.typname, t.typtype, coalesce(string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder), '')
			 FROM pg_type t LEFT JOIN pg_enum e ON e.enumtypid = t.oid
			 WHERE t.typnamespace = current_schema()::regnamespace GROUP BY 1, 2 ORDER BY 1, 2`,
			`SELECT sequencename, data_type::text, start_value, increment_by, max_value, cycle, coalesce(last_value, 0)
			 FROM pg_sequences WHERE schemaname = current_schema() ORDER BY 1`,
		}
	}
	queries = append(queries,
		`SELECT 'goose', version_id, is_applied FROM goose_db_version ORDER BY id`,
		`SELECT 'river', line, version FROM river_migration ORDER BY line, version`,
	)
	var schema string
	if db.Dialect == store.Postgres {
		if err := db.QueryRow(`SELECT current_schema()`).Scan(&schema); err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	for _, q := range queries {
		rows, err := db.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var line []string
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				line = append(line, fmt.Sprint(v))
			}
			s := strings.Join(line, " | ")
			if schema != "" {
				s = strings.ReplaceAll(s, schema, "S")
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}
