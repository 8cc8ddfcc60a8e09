// Package importertest sets up the import service over a test database and
// holds an import at a chosen step, for the tests of every package that
// builds on the service (importer, the doors, the sync). No mocks: the real
// service over a real database, with River's real client as its queue.
package importertest

import (
	"context"
	"sync"
	"testing"

	"rosterd/importer"
	"rosterd/jobs"
	"rosterd/layers/layerstest"
	"rosterd/store"
)

// NewService is the import service over db with cfg, its queue an
// insert-only River client (no workers: the test runs imports itself)
// unless cfg names one. River's tables are migrated first.
func NewService(t testing.TB, db *store.DB, cfg importer.ServiceConfig) (*importer.Service, *jobs.Client) {
	t.Helper()
	if err := jobs.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if cfg.Queue == nil {
		q, err := jobs.New(db, jobs.Params{})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Queue = q
	}
	if cfg.PGPKeyBits == 0 {
		cfg.PGPKeyBits = layerstest.KeyBits
	}
	svc, err := importer.NewService(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, cfg.Queue
}

// RunPausedAtPlan runs im in the background and holds it between its plan
// and its apply: the organisation's roster lock held, nothing applied. It
// returns once the import is there, with the function that lets it go on
// (also called when the test ends, so a failing test never leaves it
// holding its transaction) and where its result arrives.
func RunPausedAtPlan(t testing.TB, db *store.DB, im *store.Import) (letGo func(), done <-chan error) {
	t.Helper()
	planned, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	letGo = func() { once.Do(func() { close(release) }) }
	t.Cleanup(letGo)
	result := make(chan error, 1)
	go func() {
		_, err := importer.Run(context.Background(), db, importer.RunParams{Import: im, Limits: importer.DefaultLimits(),
			Pause: func(_ context.Context, s importer.Step) {
				if s == importer.StepPlanned {
					close(planned)
					<-release
				}
			}})
		result <- err
	}()
	select {
	case <-planned:
	case err := <-result:
		t.Fatalf("import %s ended before its plan: %v", im.ID, err)
	}
	return letGo, result
}
