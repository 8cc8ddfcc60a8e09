package jobs_test

import (
	"context"
	"testing"
	"time"

	"rosterd/jobs"
	"rosterd/store"
	"rosterd/store/storetest"
)

// Liveness is judged on the database's clock, and a daemon never takes
// itself for dead: on SQLite its own heartbeat may have waited behind a long
// import, or a host's clock may be off. Another daemon silent for longer
// than DeadAfter is forgotten.
func TestRescueDeadSparesItselfAndJudgesOnTheDatabaseClock(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := jobs.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		client, err := jobs.New(db, jobs.Params{})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"self", "dead", "alive"} {
			if err := jobs.Register(ctx, db, id); err != nil {
				t.Fatal(err)
			}
		}
		now, err := store.Now(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if skew := time.Since(now); skew > time.Minute || skew < -time.Minute {
			t.Fatalf("database clock %v is %v away from this host's", now, skew)
		}
		silent := now.Add(-2 * jobs.DeadAfter)
		if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE daemons SET heartbeat_at = ? WHERE id IN ('self', 'dead')`), silent); err != nil {
			t.Fatal(err)
		}
		if _, err := jobs.RescueDead(ctx, db, client, "self"); err != nil {
			t.Fatal(err)
		}
		var left []string
		if err := db.SelectContext(ctx, &left, `SELECT id FROM daemons ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		if len(left) != 2 || left[0] != "alive" || left[1] != "self" {
			t.Errorf("daemons after the sweep: %v, want alive and self", left)
		}
		// Its next beat finds its row: it was never taken for dead.
		if forgotten, err := jobs.Beat(ctx, db, "self"); err != nil || forgotten {
			t.Errorf("self's beat: forgotten %v, %v", forgotten, err)
		}
	})
}
