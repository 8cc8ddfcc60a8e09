// Package jobs is rosterd's background work: the River client over the same
// database as everything else (PostgreSQL or SQLite), its migrations, and the
// job kinds. A job is inserted in the same transaction as the record it acts
// on, so an accepted file always has its import job and a finished import
// always has its e-mail job. The workers live with the code they run
// (importer, notify); this package only knows their arguments.
package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"rosterd/store"
)

// Client is River over database/sql, the same type for both databases.
type Client = river.Client[*sql.Tx]

// ImportArgs asks a worker to process one recorded import.
type ImportArgs struct {
	ImportID string `json:"import_id"`
}

// Kind names the job in River's table.
func (ImportArgs) Kind() string { return "import" }

// NotifyArgs asks a worker to deliver one stored notification.
type NotifyArgs struct {
	NotificationID int64 `json:"notification_id"`
}

// Kind names the job in River's table.
func (NotifyArgs) Kind() string { return "notify" }

func driver(db *store.DB) riverdriver.Driver[*sql.Tx] {
	if db.Dialect == store.Postgres {
		return riverdatabasesql.New(db.DB.DB)
	}
	return riversqlite.New(db.DB.DB)
}

// Migrate brings the database to the schema this binary knows: rosterd's
// own tables, then River's.
func Migrate(ctx context.Context, db *store.DB) error {
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	m, err := rivermigrate.New(driver(db), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	if riverCurrent(ctx, db, m) {
		return nil
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// riverCurrent reports whether River's tables are at the newest version this
// binary knows, read from its migration table in one query. Every command
// and daemon start migrates; River's own check of the versions asks
// information_schema whether its table and a column exist, 20–30 ms on
// PostgreSQL (more as the catalogue grows) for a database that is nearly
// always current. Any doubt (no table yet, another layout) is "no", and
// River's migrator decides.
func riverCurrent(ctx context.Context, db *store.DB, m *rivermigrate.Migrator[*sql.Tx]) bool {
	all := m.AllVersions()
	if len(all) == 0 {
		return false
	}
	var newest int
	if err := db.GetContext(ctx, &newest, `SELECT COALESCE(MAX(version), 0) FROM river_migration WHERE line = 'main'`); err != nil {
		return false
	}
	return newest == all[len(all)-1].Version
}

// Params configure a Client.
type Params struct {
	// Workers are the job kinds this process works; nil makes an insert-only
	// client, as the command line uses to queue work for a running daemon.
	Workers *river.Workers
	// PeriodicJobs are inserted on their schedule by River's leader (one
	// of the daemons sharing the database); only with Workers.
	PeriodicJobs []*river.PeriodicJob
	// MaxWorkers is how many jobs run at once in this process.
	MaxWorkers int
	// PollInterval is how often idle workers look for new jobs.
	PollInterval time.Duration
	// RescueAfter is how long a job may stay running before River's own
	// rescuer runs it again: a backstop, as dead daemons' jobs are taken
	// over by Liveness.RescueDead within a minute. Import jobs guard against running
	// twice.
	RescueAfter time.Duration
	// ID names this run of a daemon to River (NewDaemonID): the id its
	// heartbeat row has, by which Liveness.RescueDead finds the jobs of a dead one.
	// Empty: River makes a random one (an insert-only client).
	ID     string
	Logger *slog.Logger
}

// New makes a River client over db.
func New(db *store.DB, p Params) (*Client, error) {
	cfg := &river.Config{
		ID:                   p.ID,
		Logger:               p.Logger,
		RetryPolicy:          backoff{},
		JobTimeout:           time.Minute, // e-mails; imports set their own (Worker.Timeout)
		RescueStuckJobsAfter: p.RescueAfter,
		FetchPollInterval:    p.PollInterval,
		FetchCooldown:        min(p.PollInterval, 100*time.Millisecond),
	}
	if p.RescueAfter > 0 && p.RescueAfter < cfg.JobTimeout {
		cfg.JobTimeout = p.RescueAfter // River wants rescue no sooner than a timeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// River reports its routine at info (job counts every few seconds):
	// operators want only its warnings; rosterd logs the work itself.
	cfg.Logger = slog.New(minLevel{cfg.Logger.Handler(), slog.LevelWarn})
	if p.Workers != nil {
		cfg.Workers = p.Workers
		cfg.PeriodicJobs = p.PeriodicJobs
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(1, p.MaxWorkers)}}
	}
	client, err := river.NewClient(driver(db), cfg)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return client, nil
}

// backoff retries failed jobs after 1 s, 2 s, 4 s … up to 10 minutes, with
// jitter: an SMTP server that was down for a minute gets its e-mails a few
// seconds after it is back, and one down for a day is not hammered.
type backoff struct{}

func (backoff) NextRetry(job *rivertype.JobRow) time.Time {
	d := min(time.Second<<min(job.Attempt, 20), 10*time.Minute)
	d += time.Duration(rand.Int64N(int64(d/10) + 1))
	return time.Now().Add(d)
}

// rawArgs re-inserts a job from its stored kind and arguments.
type rawArgs struct {
	kind string
	args json.RawMessage
}

func (a rawArgs) Kind() string                 { return a.kind }
func (a rawArgs) MarshalJSON() ([]byte, error) { return a.args, nil }

// minLevel drops records below a level, whatever the wrapped handler allows.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.min}
}
func (h minLevel) WithGroup(g string) slog.Handler { return minLevel{h.Handler.WithGroup(g), h.min} }
