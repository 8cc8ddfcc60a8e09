package importer_test

import (
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// On PostgreSQL an import's staging tables stay with its connection for the
// next import (see stagingDDL). Four imports of every kind that builds
// indexes on its staging (a first import, changed full syncs that archive
// and restore, a partial update) on a pool of at most two connections, one
// of which may be writing progress: at least one connection runs two of
// them, and each import succeeds with its own counts, none seeing an index
// or a row the one before left.
func TestPostgresImportsShareTheirConnection(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.Postgres)
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(2)
	e := newEnv(t, db)
	e.seed(20)
	changed := strings.Replace(fullRoster(1, 19), "First3;", "Third;", 1)
	for i, step := range []struct {
		mode    importer.Mode
		file    string
		want    func(c store.Counts) bool
		wantStr string
	}{
		{importer.ModeFull, changed, func(c store.Counts) bool { return c.Updated == 1 && c.Archived == 1 && c.Unchanged == 18 }, "1 updated, 1 archived, 18 unchanged"},
		{importer.ModeFull, fullRoster(1, 20), func(c store.Counts) bool { return c.Updated == 1 && c.Restored == 1 && c.Unchanged == 18 }, "1 updated, 1 restored, 18 unchanged"},
		{importer.ModePartial, fullRoster(21, 25), func(c store.Counts) bool { return c.Created == 5 && c.Unchanged == 0 }, "5 created"},
		{importer.ModeFull, fullRoster(1, 22), func(c store.Counts) bool { return c.Archived == 3 && c.Unchanged == 22 }, "3 archived, 22 unchanged"},
	} {
		im := e.importFile(step.mode, step.file)
		if im.Status != store.ImportSucceeded || !step.want(im.Counts) {
			t.Fatalf("import %d: %s %+v %s; want succeeded, %s", i+1, im.Status, im.Counts, im.Error, step.wantStr)
		}
	}
}
