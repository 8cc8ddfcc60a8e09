package jobs_test

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"rosterd/jobs"
	"rosterd/store"
	"rosterd/store/storetest"
)

// A database whose job queue is a version behind this binary's (migrated by
// the release before) is brought up by Migrate, which otherwise reads the
// version in one query and leaves a current one alone.
func TestMigrateBringsAnOlderJobQueueUp(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var drv riverdriver.Driver[*sql.Tx] = riversqlite.New(db.DB.DB)
		if db.Dialect == store.Postgres {
			drv = riverdatabasesql.New(db.DB.DB)
		}
		m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		all := m.AllVersions()
		newest := all[len(all)-1].Version
		version := func() int {
			t.Helper()
			got, err := m.ExistingVersions(ctx)
			if err != nil || len(got) == 0 {
				t.Fatalf("River's versions: %v, %v", got, err)
			}
			return got[len(got)-1].Version
		}
		if v := version(); v != newest {
			t.Fatalf("a test's database has River at version %d, want %d", v, newest)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: newest - 1}); err != nil {
			t.Fatal(err)
		}
		if v := version(); v != newest-1 {
			t.Fatalf("after migrating down: version %d, want %d", v, newest-1)
		}
		if err := jobs.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		if v := version(); v != newest {
			t.Errorf("after Migrate: River at version %d, want %d", v, newest)
		}
	})
}
