package storetest_test

import (
	"strings"
	"testing"

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
			copied := storetest.Describe(t, storetest.Open(t, d))
			fresh := storetest.Describe(t, storetest.OpenMigrated(t, d))
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
