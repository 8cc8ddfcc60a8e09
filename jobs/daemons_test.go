package jobs_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"rosterd/jobs"
	"rosterd/store"
	"rosterd/store/storetest"
)

// A daemon never takes itself for dead: on SQLite its own heartbeat may have
// waited behind a long import, or a host's clock may be off. Another daemon
// whose heartbeat is older than DeadAfter on the database's clock is
// forgotten at the first sweep, by a judge that has never seen it before.
func TestRescueDeadSparesItself(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		client := migrated(t, db, "self", "dead", "alive")
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
		if _, err := (&jobs.Liveness{Self: "self"}).RescueDead(ctx, db, client); err != nil {
			t.Fatal(err)
		}
		if left := daemonIDs(t, db); !slices.Equal(left, []string{"alive", "self"}) {
			t.Errorf("daemons after the sweep: %v, want alive and self", left)
		}
		// Its next beat finds its row: it was never taken for dead.
		if forgotten, err := jobs.Beat(ctx, db, "self"); err != nil || forgotten {
			t.Errorf("self's beat: forgotten %v, %v", forgotten, err)
		}
	})
}

// The database's clock is set back an hour while a daemon lies dead in the
// middle of a job: its last heartbeat and the job's start now look an hour
// ahead. The daemon sweeping still takes the dead one's job over once it has
// seen its heartbeat unchanged for DeadAfter, instead of waiting out the
// hour; a daemon that keeps beating stays.
func TestRescueDeadAfterTheClockWentBack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		client := migrated(t, db, "self", "dead", "alive")
		job := runningJobOf(t, db, "dead")

		start := time.Now()
		clock := start
		l := &jobs.Liveness{Self: "self", DeadAfter: 30 * time.Second,
			Monotonic: func() time.Time { return clock },
			DatabaseNow: func(ctx context.Context, q store.Querier) (time.Time, error) {
				now, err := store.Now(ctx, q)
				return now.Add(-time.Hour), err
			}}
		sweep := func(wantRescued int, wantDaemons ...string) {
			t.Helper()
			if _, err := jobs.Beat(ctx, db, "alive"); err != nil {
				t.Fatal(err)
			}
			n, err := l.RescueDead(ctx, db, client)
			if err != nil {
				t.Fatal(err)
			}
			if left := daemonIDs(t, db); n != wantRescued || !slices.Equal(left, wantDaemons) {
				t.Fatalf("sweep %s after the first: %d jobs rescued, daemons %v; want %d, %v",
					clock.Sub(start), n, left, wantRescued, wantDaemons)
			}
		}
		sweep(0, "alive", "dead", "self")
		clock = clock.Add(20 * time.Second)
		sweep(0, "alive", "dead", "self")
		clock = clock.Add(10 * time.Second)
		sweep(1, "alive", "self")

		// The job runs again: a fresh copy is available, the original is
		// retired (its daemon, were it alive, is told to stop).
		res, err := client.JobList(ctx, river.NewJobListParams().States(rivertype.JobStateAvailable))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) != 1 || string(res.Jobs[0].EncodedArgs) != string(job.EncodedArgs) {
			t.Errorf("available jobs after the rescue: %v, want one copy of %s", res.Jobs, job.EncodedArgs)
		}
		// Rescued once: the next sweep leaves it alone.
		clock = clock.Add(10 * time.Second)
		sweep(0, "alive", "self")
	})
}

// The database's clock jumps an hour ahead: every heartbeat looks an hour
// old. A daemon seen beating since the previous sweep is not taken for dead.
func TestRescueDeadAfterTheClockJumpedAhead(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		client := migrated(t, db, "self", "alive")
		jump := time.Duration(0)
		l := &jobs.Liveness{Self: "self", DatabaseNow: func(ctx context.Context, q store.Querier) (time.Time, error) {
			now, err := store.Now(ctx, q)
			return now.Add(jump), err
		}}
		for _, j := range []time.Duration{0, time.Hour} {
			jump = j
			if _, err := jobs.Beat(ctx, db, "alive"); err != nil {
				t.Fatal(err)
			}
			if _, err := l.RescueDead(ctx, db, client); err != nil {
				t.Fatal(err)
			}
			if left := daemonIDs(t, db); !slices.Equal(left, []string{"alive", "self"}) {
				t.Fatalf("daemons after a sweep with the clock %s ahead: %v, want alive and self", j, left)
			}
		}
	})
}

// migrated readies db for jobs, registers the daemons named, and returns an
// insert-only client.
func migrated(t *testing.T, db *store.DB, daemons ...string) *jobs.Client {
	t.Helper()
	ctx := context.Background()
	if err := jobs.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, id := range daemons {
		if err := jobs.Register(ctx, db, id); err != nil {
			t.Fatal(err)
		}
	}
	client, err := jobs.New(db, jobs.Params{})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func daemonIDs(t *testing.T, db *store.DB) []string {
	t.Helper()
	var ids []string
	if err := db.SelectContext(context.Background(), &ids, `SELECT id FROM daemons ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	return ids
}

// runningJobOf starts a River client named daemon whose one worker takes a
// job and holds it until the test ends, as a daemon that died mid-job left
// it: running, attempted by daemon. Its slot stays taken, so the client
// takes no copy the rescue makes.
func runningJobOf(t *testing.T, db *store.DB, daemon string) *rivertype.JobRow {
	t.Helper()
	started, release := make(chan int64, 1), make(chan struct{})
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[jobs.NotifyArgs]) error {
		started <- j.ID
		<-release
		return nil
	}))
	c, err := jobs.New(db, jobs.Params{ID: daemon, Workers: workers, MaxWorkers: 1, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(release)
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = c.StopAndCancel(stop)
	})
	if _, err := c.Insert(ctx, jobs.NotifyArgs{NotificationID: 7}, nil); err != nil {
		t.Fatal(err)
	}
	var id int64
	select {
	case id = <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the job was not taken within 30s")
	}
	j, err := c.JobGet(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != rivertype.JobStateRunning || !slices.Equal(j.AttemptedBy, []string{daemon}) {
		t.Fatalf("job %d: %s, attempted by %v; want running, by %s", id, j.State, j.AttemptedBy, daemon)
	}
	return j
}

// During a rolling upgrade a daemon of the release before beats were
// counted keeps running: its heartbeat_at moves, its count of beats stays
// 0. A daemon of this release must not take it for dead.
func TestRescueDeadSparesADaemonThatOnlyWritesItsTime(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		client := migrated(t, db, "self", "older")
		clock := time.Now()
		l := &jobs.Liveness{Self: "self", DeadAfter: 30 * time.Second, Monotonic: func() time.Time { return clock }}
		for sweep := range 4 {
			now, err := store.Now(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			// As the older release beats: the time only.
			if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE daemons SET heartbeat_at = ? WHERE id = 'older'`), now.Add(time.Duration(sweep)*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			if _, err := l.RescueDead(ctx, db, client); err != nil {
				t.Fatal(err)
			}
			if left := daemonIDs(t, db); !slices.Equal(left, []string{"older", "self"}) {
				t.Fatalf("daemons after sweep %d, %s after the first: %v, want older and self", sweep+1, time.Duration(sweep)*20*time.Second, left)
			}
			clock = clock.Add(20 * time.Second)
		}
	})
}
