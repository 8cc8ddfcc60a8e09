package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"rosterd/store"
)

// Describe lists what db holds, one sorted line per object (every table,
// column, index, constraint, trigger, function, sequence with its value,
// type, and the rows of goose's and River's version tables), the
// PostgreSQL schema's own name written as S: two databases that describe
// alike are interchangeable for a test.
func Describe(t testing.TB, db *store.DB) []string {
	t.Helper()
	var (
		out []string
		err error
	)
	if db.Dialect == store.SQLite {
		out, err = describeSQLite(context.Background(), db.DB.DB)
	} else {
		var schema string
		if err := db.QueryRow(`SELECT current_schema()`).Scan(&schema); err != nil {
			t.Fatal(err)
		}
		out, err = describePostgres(context.Background(), db.DB.DB, schema)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func describeSQLite(ctx context.Context, q *sql.DB) ([]string, error) {
	return describeRows(ctx, q, "", []string{
		`SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name`,
		`SELECT 'journal_mode', journal_mode FROM pragma_journal_mode`,
		`SELECT 'user_version', user_version FROM pragma_user_version`,
		`SELECT 'auto_vacuum', auto_vacuum FROM pragma_auto_vacuum`,
		`SELECT 'page_size', page_size FROM pragma_page_size`,
		`SELECT 'goose', version_id, is_applied FROM goose_db_version ORDER BY id`,
		`SELECT 'river', line, version FROM river_migration ORDER BY line, version`,
	})
}

// describePostgres describes schema from any connection of the server (the
// schema is named, not taken from the search path), so that a schema a test
// gave back is checked on the binary's own pool.
func describePostgres(ctx context.Context, q *sql.DB, schema string) ([]string, error) {
	s := pqQuote(schema)
	return describeRows(ctx, q, schema, []string{
		`SELECT c.relname, c.relkind, c.relpersistence, coalesce(array_to_string(c.reloptions, ','), ''), coalesce(obj_description(c.oid, 'pg_class'), '')
		 FROM pg_class c WHERE c.relnamespace = ` + s + `::regnamespace ORDER BY 1`,
		// A column's rank, not its number: a dropped column leaves a gap in
		// the numbers of a migrated table that a copy has not.
		`SELECT table_name, rank() OVER (PARTITION BY table_name ORDER BY ordinal_position), column_name, data_type, udt_name, is_nullable,
		        coalesce(column_default, ''), is_identity, coalesce(identity_generation, ''), coalesce(collation_name, '')
		 FROM information_schema.columns WHERE table_schema = ` + s + ` ORDER BY 1, 2`,
		`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = ` + s + ` ORDER BY 1, 2`,
		`SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
		 FROM pg_constraint WHERE connamespace = ` + s + `::regnamespace ORDER BY 1, 2`,
		`SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger
		 WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = ` + s + `::regnamespace) ORDER BY 1, 2`,
		`SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
		 FROM pg_proc p WHERE p.pronamespace = ` + s + `::regnamespace ORDER BY 1, 2`,
		`SELECT t.typname, t.typtype, coalesce(string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder), '')
		 FROM pg_type t LEFT JOIN pg_enum e ON e.enumtypid = t.oid
		 WHERE t.typnamespace = ` + s + `::regnamespace GROUP BY 1, 2 ORDER BY 1, 2`,
		`SELECT sequencename, data_type::text, start_value, increment_by, max_value, cycle, coalesce(last_value, 0)
		 FROM pg_sequences WHERE schemaname = ` + s + ` ORDER BY 1`,
		`SELECT 'goose', version_id, is_applied FROM ` + schema + `.goose_db_version ORDER BY id`,
		`SELECT 'river', line, version FROM ` + schema + `.river_migration ORDER BY line, version`,
	})
}

func describeRows(ctx context.Context, q *sql.DB, schema string, queries []string) ([]string, error) {
	var out []string
	for _, query := range queries {
		rows, err := q.QueryContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", query, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			rows.Close()
			return nil, err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
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
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pqQuote is s as an SQL string literal.
func pqQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
