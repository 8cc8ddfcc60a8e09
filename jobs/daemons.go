package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"rosterd/store"
)

// How a crashed daemon's work is taken over: liveness the database sees, not
// an identity. Each `rosterd serve` beats every HeartbeatEvery; every live
// daemon looks every RescueEvery for daemons silent for DeadAfter and makes
// their running jobs available again. A daemon killed mid-import thus has its
// import taken over at most DeadAfter + RescueEvery + HeartbeatEvery (45 s)
// after it died, by any daemon sharing the database, whatever its host name,
// address or data directory. DeadAfter is six missed beats, so a database
// hiccup of a few seconds does not declare a live daemon dead. A clock set
// back while a daemon lay dead delays that by at most DeadAfter + RescueEvery
// from when another daemon first saw it silent (Liveness), not by the jump.
//
// They are variables only so that rosterd's own crash and cluster tests can
// shorten them (ShortenLivenessForTests); nothing else changes them.
var (
	// HeartbeatEvery is how often a daemon records that it is alive.
	HeartbeatEvery = 5 * time.Second
	// DeadAfter is how long a daemon may stay silent before its jobs are
	// given to others.
	DeadAfter = 30 * time.Second
	// RescueEvery is how often a daemon looks for dead ones.
	RescueEvery = 10 * time.Second
)

// ShortenLivenessForTests sets DeadAfter to deadAfter and keeps the
// production ratios (a beat every sixth of it, a rescue sweep every third),
// so a test that kills a daemon sees its work taken over in seconds instead
// of ~45 s, through the same code. It is for tests only (rosterd serve calls
// it for ROSTERD_TEST_DEAD_AFTER), is called before any daemon goroutine
// starts, and only shortens: deadAfter must be between 1 s and the
// production DeadAfter.
func ShortenLivenessForTests(deadAfter time.Duration) error {
	if deadAfter < time.Second || deadAfter > 30*time.Second {
		return fmt.Errorf("test liveness: dead after %s: want between 1s and 30s", deadAfter)
	}
	DeadAfter, HeartbeatEvery, RescueEvery = deadAfter, deadAfter/6, deadAfter/3
	return nil
}

// NewDaemonID makes the id of one run of a daemon: fresh at each start, so
// that a restarted daemon is a new one and its predecessor's work is rescued
// like any dead daemon's. The host name is there for operators only.
func NewDaemonID() string {
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	if len(host) > 60 {
		host = host[:60]
	}
	return "rosterd-" + host + "-" + hex.EncodeToString(b[:])
}

// Register records daemon id as alive, before it takes any job. Times are
// the database's clock, never the daemon's: hosts' clocks may disagree, the
// database is the one judge of who is silent.
func Register(ctx context.Context, db *store.DB, id string) error {
	host, _ := os.Hostname()
	now, err := store.Now(ctx, db)
	if err != nil {
		return fmt.Errorf("register daemon: %w", err)
	}
	if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO daemons (id, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?)`),
		id, host, now, now); err != nil {
		return fmt.Errorf("register daemon: %w", err)
	}
	return nil
}

// Beat records that daemon id is still alive. forgotten reports that the row
// was gone: another daemon took this one for dead (it was silent for
// DeadAfter) and gave its running jobs to others; Beat registers it again so
// that its next jobs are its own.
func Beat(ctx context.Context, db *store.DB, id string) (forgotten bool, err error) {
	now, err := store.Now(ctx, db)
	if err != nil {
		return false, fmt.Errorf("daemon heartbeat: %w", err)
	}
	res, err := db.ExecContext(ctx, db.Rebind(`UPDATE daemons SET heartbeat_at = ?, beats = beats + 1 WHERE id = ?`), now, id)
	if err != nil {
		return false, fmt.Errorf("daemon heartbeat: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return false, nil
	}
	return true, Register(ctx, db, id)
}

// Unregister forgets daemon id at a clean stop: it runs no job any more.
func Unregister(ctx context.Context, db *store.DB, id string) error {
	if _, err := db.ExecContext(ctx, db.Rebind(`DELETE FROM daemons WHERE id = ?`), id); err != nil {
		return fmt.Errorf("unregister daemon: %w", err)
	}
	return nil
}

// Liveness is one daemon's judge of which other daemons are dead: it keeps
// what it saw at its earlier sweeps, so that a clock that jumps does not
// stall the takeover of a dead daemon's work. Its zero value is not usable:
// Self must be set. One daemon has one Liveness, used by one goroutine.
//
// A daemon is dead when it is not Self, its heartbeat (its count of beats
// and the time written) did not move since this judge's previous sweep, and
// either the database's clock says its last beat is older than DeadAfter or
// this judge has seen the same heartbeat for DeadAfter on its own monotonic
// clock. The first rule takes over a daemon that died long before this one
// started at its first sweep, as always;
// the second holds when the database's clock went back (beats written
// before then look younger than they are: a backward jump of an hour would
// otherwise keep a dead daemon's import waiting for an hour). A heartbeat
// seen moving is never dead, so a clock jumping forward does not take a
// beating daemon for dead either, once it was seen twice.
type Liveness struct {
	// Self is the id of the daemon sweeping: alive whatever its row says.
	Self string
	// DeadAfter is the silence after which a daemon is dead; zero means the
	// package's DeadAfter.
	DeadAfter time.Duration
	// Monotonic reads this host's monotonic clock; nil means time.Now.
	// Tests set both clocks to play a jump without changing the machine's.
	Monotonic func() time.Time
	// DatabaseNow reads the database's clock; nil means store.Now.
	DatabaseNow func(context.Context, store.Querier) (time.Time, error)

	seen  map[string]sighting // "daemon:<id>" or "job:<id>" → what was seen, since when
	sweep uint64
}

// sighting is a value seen at a sweep and the monotonic time it was first
// seen with that value.
type sighting struct {
	value string
	since time.Time
	sweep uint64 // the last sweep that saw it: older ones are forgotten
}

// look records value for key at this sweep and says for how long it has
// been seen unchanged, and whether it changed since the previous sweep (a
// first sighting is no change: nothing says it moved).
func (l *Liveness) look(key, value string, now time.Time) (unchanged time.Duration, changed bool) {
	s, ok := l.seen[key]
	switch {
	case !ok:
		s = sighting{value: value, since: now}
	case s.value != value:
		s, changed = sighting{value: value, since: now}, true
	}
	s.sweep = l.sweep
	l.seen[key] = s
	return now.Sub(s.since), changed
}

// RescueDead makes the running jobs of dead daemons available again and
// forgets those daemons; it returns how many jobs it rescued. A job is
// rescued when the daemon that took it last is dead (see Liveness) or has
// no row (from before daemons beat, or forgotten already), and the job was
// taken more than DeadAfter ago, by the database's clock or as this judge
// saw it. River moves no running job back itself (JobRetry leaves
// running jobs alone), so each gets a fresh copy, and the original is
// cancelled in the same transaction: River's rescuer then ends it as
// cancelled instead of running it again, and a daemon wrongly taken for
// dead that still runs it is told to stop. Import jobs are safe to run twice
// anyway (compare-and-set, advisory lock); e-mail jobs check the stored
// notification first, so they stay sent-once.
//
// Self is alive whatever its row says: on SQLite its own heartbeat may have
// waited behind a long import's write transaction.
//
// Sweeps of several daemons do not overlap: PostgreSQL takes an advisory
// lock (a daemon that does not get it skips this round), SQLite's
// transaction is exclusive.
func (l *Liveness) RescueDead(ctx context.Context, db *store.DB, client *Client) (int, error) {
	deadAfter, mono, dbNow := l.DeadAfter, l.Monotonic, l.DatabaseNow
	if deadAfter <= 0 {
		deadAfter = DeadAfter
	}
	if mono == nil {
		mono = time.Now
	}
	if dbNow == nil {
		dbNow = store.Now
	}
	if l.seen == nil {
		l.seen = map[string]sighting{}
	}
	l.sweep++
	n, looked := 0, false
	err := db.InTx(ctx, func(tx *sqlx.Tx) error {
		if db.Dialect == store.Postgres {
			var got bool
			if err := tx.GetContext(ctx, &got, `SELECT pg_try_advisory_xact_lock(hashtext('rosterd-rescue:' || current_schema()))`); err != nil {
				return fmt.Errorf("lock rescue: %w", err)
			}
			if !got {
				return nil
			}
		}
		now, err := dbNow(ctx, tx)
		if err != nil {
			return fmt.Errorf("rescue: %w", err)
		}
		at := mono()
		looked = true
		var daemons []struct {
			ID    string    `db:"id"`
			Beat  time.Time `db:"heartbeat_at"`
			Beats int64     `db:"beats"`
		}
		if err := tx.SelectContext(ctx, &daemons, `SELECT id, heartbeat_at, beats FROM daemons`); err != nil {
			return fmt.Errorf("list daemons: %w", err)
		}
		live := map[string]bool{l.Self: true}
		for _, d := range daemons {
			// The time written is part of what is seen: a daemon of a release
			// before beats were counted moves only heartbeat_at.
			unchanged, changed := l.look("daemon:"+d.ID, fmt.Sprint(d.Beats, " ", d.Beat.UnixNano()), at)
			if d.ID == l.Self || changed || (now.Sub(d.Beat) <= deadAfter && unchanged < deadAfter) {
				live[d.ID] = true
				continue
			}
			// Only the row judged: a beat that committed since it was read
			// keeps the daemon, and its jobs, alive.
			res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM daemons WHERE id = ? AND beats = ?`), d.ID, d.Beats)
			if err != nil {
				return fmt.Errorf("forget daemon %s: %w", d.ID, err)
			}
			if n, err := res.RowsAffected(); err == nil && n == 0 {
				live[d.ID] = true
			}
		}
		params := river.NewJobListParams().States(rivertype.JobStateRunning).First(10000)
		res, err := client.JobListTx(ctx, tx.Tx, params)
		if err != nil {
			return fmt.Errorf("list running jobs: %w", err)
		}
		for _, j := range res.Jobs {
			if len(j.AttemptedBy) == 0 || j.AttemptedAt == nil || cancelAttempted(j) {
				continue
			}
			by := j.AttemptedBy[len(j.AttemptedBy)-1]
			unchanged, changed := l.look(fmt.Sprintf("job:%d", j.ID), fmt.Sprintf("%d %s", j.Attempt, by), at)
			if live[by] || changed || (now.Sub(*j.AttemptedAt) <= deadAfter && unchanged < deadAfter) {
				continue
			}
			if _, err := client.InsertTx(ctx, tx.Tx, rawArgs{kind: j.Kind, args: j.EncodedArgs},
				&river.InsertOpts{MaxAttempts: j.MaxAttempts, Queue: j.Queue, Priority: j.Priority}); err != nil {
				return fmt.Errorf("requeue job %d: %w", j.ID, err)
			}
			if _, err := client.JobCancelTx(ctx, tx.Tx, j.ID); err != nil {
				return fmt.Errorf("retire job %d: %w", j.ID, err)
			}
			n++
		}
		return nil
	})
	if looked && err == nil { // what this sweep did not see is gone
		for k, s := range l.seen {
			if s.sweep != l.sweep {
				delete(l.seen, k)
			}
		}
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// cancelAttempted reports a running job already retired (by RescueDead or
// an operator): it is not rescued again.
func cancelAttempted(j *rivertype.JobRow) bool {
	var m struct {
		CancelAttemptedAt *time.Time `json:"cancel_attempted_at"`
	}
	_ = json.Unmarshal(j.Metadata, &m)
	return m.CancelAttemptedAt != nil
}
