package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// The phases of an import's run, in the order they happen (SPEC §4.1's
// progress). A run only ever moves forward through them; a phase with
// nothing to do (saving, for a dry run or a held sync) is skipped.
const (
	PhaseQueued    = "queued"    // waiting for a worker
	PhaseReading   = "reading"   // reading, decoding and validating the rows
	PhaseChecking  = "checking"  // the checks across rows and the roster, the plan, the counts
	PhaseSaving    = "saving"    // writing the roster
	PhaseFinishing = "finishing" // recording the outcome and queueing its e-mail, then the commit
	PhaseDone      = "done"      // the outcome is recorded
)

// Phases lists the phases in order.
var Phases = []string{PhaseQueued, PhaseReading, PhaseChecking, PhaseSaving, PhaseFinishing, PhaseDone}

// PhaseOrder is a phase's place in Phases (-1 for an unknown one).
func PhaseOrder(phase string) int {
	for i, p := range Phases {
		if p == phase {
			return i
		}
	}
	return -1
}

// ImportProgress is the live progress of one run of an import. It is kept
// apart from the import's row and written outside the import's own
// transaction, so that others see it while that transaction is open:
//
//   - PostgreSQL: the import_progress table, written in autocommit from the
//     pool; every daemon and command line on the database sees it at once.
//   - SQLite: the same table in a database file of its own beside the main
//     one (<path>-progress). SQLite has one writer per database file, and a
//     large import holds the main file's write lock for its whole check and
//     save: a progress write there would wait for the import's commit (the
//     page stood still). The progress file has its own lock, held for a
//     moment per write, so progress moves during check and save, and any
//     process opening the same database (the daemon, `rosterd import show`,
//     another command line) sees it. What SQLite cannot show across
//     processes is anything the import's transaction has written on the main
//     file (counts, the roster) before it commits, and an in-memory database
//     (`sqlite::memory:`) keeps its progress in its own process alone.
type ImportProgress struct {
	ImportID  string `db:"import_id"`
	Run       int64  `db:"run"`
	Phase     string `db:"phase"`
	RowsRead  int64  `db:"rows_read"`
	BytesRead int64  `db:"bytes_read"`
	// Done and Total are the current phase's figures: bytes while reading,
	// checks while checking, rows while saving.
	Done  int64 `db:"done"`
	Total int64 `db:"total"`
	// PhaseTimesJSON holds when each phase of the run began (PhaseTimes).
	PhaseTimesJSON string    `db:"phase_times"`
	UpdatedAt      time.Time `db:"updated_at"`
}

// PhaseTimes decodes when each phase of the run began.
func (p *ImportProgress) PhaseTimes() map[string]time.Time {
	m := map[string]time.Time{}
	_ = json.Unmarshal([]byte(p.PhaseTimesJSON), &m)
	return m
}

// SetPhaseTimes encodes when each phase of the run began.
func (p *ImportProgress) SetPhaseTimes(m map[string]time.Time) {
	b, _ := json.Marshal(m)
	p.PhaseTimesJSON = string(b)
}

// progressSchema is the progress table of the SQLite progress file (the
// PostgreSQL one is a migration).
const progressSchema = `CREATE TABLE IF NOT EXISTS import_progress (
	import_id   TEXT PRIMARY KEY,
	run         INTEGER NOT NULL,
	phase       TEXT NOT NULL,
	phase_order INTEGER NOT NULL,
	rows_read   INTEGER NOT NULL DEFAULT 0,
	bytes_read  INTEGER NOT NULL DEFAULT 0,
	done        INTEGER NOT NULL DEFAULT 0,
	total       INTEGER NOT NULL DEFAULT 0,
	phase_times TEXT NOT NULL DEFAULT '{}',
	updated_at  TIMESTAMP NOT NULL
)`

// openProgress opens the SQLite progress file of the database at path
// (see ImportProgress). Its content is only ever the latest figures of
// runs: losing it loses nothing but a moment of progress. So it is written
// without waiting for the disk at each commit (WAL with synchronous NORMAL,
// which a power loss cannot corrupt), and a file that cannot be opened
// (damaged, or not a database) is removed and made anew rather than keeping
// the daemon from starting.
func openProgress(ctx context.Context, path string) (*sqlx.DB, error) {
	db, err := openProgressFile(ctx, path)
	if err == nil || path == ":memory:" {
		return db, err
	}
	for _, suffix := range []string{"-progress", "-progress-wal", "-progress-shm"} {
		if rerr := os.Remove(path + suffix); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w (and it could not be removed: %v)", err, rerr)
		}
	}
	return openProgressFile(ctx, path)
}

func openProgressFile(ctx context.Context, path string) (*sqlx.DB, error) {
	dsn := "file::memory:"
	if path != ":memory:" {
		dsn = "file:" + path + "-progress?_pragma=journal_mode(WAL)"
	} else {
		dsn += "?"
	}
	dsn += "&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_time_format=sqlite"
	db, err := sqlx.Open("sqlite", strings.Replace(dsn, "?&", "?", 1))
	if err != nil {
		return nil, fmt.Errorf("open the progress database: %w", err)
	}
	if path == ":memory:" {
		db.SetMaxOpenConns(1) // each connection to :memory: is a database of its own
	} else {
		db.SetMaxOpenConns(4)
	}
	if _, err := db.ExecContext(ctx, progressSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create the progress table: %w", err)
	}
	return db, nil
}

// progressDB is where ImportProgress is kept.
func (db *DB) progressDB() *sqlx.DB {
	if db.progress != nil {
		return db.progress
	}
	return db.DB
}

// ImportProgressSet records a run's progress, as a compare-and-set that only
// moves forward: it is written when its run is newer than the stored one,
// or the same run in the same or a later phase with figures no smaller. A
// late write of an older run, or a stale tick of this one, changes nothing
// (and is no error). p.UpdatedAt is set to now.
func ImportProgressSet(ctx context.Context, db *DB, p *ImportProgress) error {
	p.UpdatedAt = time.Now().UTC()
	if p.PhaseTimesJSON == "" {
		p.PhaseTimesJSON = "{}"
	}
	order := PhaseOrder(p.Phase)
	if order < 0 {
		return fmt.Errorf("import progress: unknown phase %q", p.Phase)
	}
	q := db.progressDB()
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO import_progress
		(import_id, run, phase, phase_order, rows_read, bytes_read, done, total, phase_times, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (import_id) DO UPDATE SET run = excluded.run, phase = excluded.phase,
			phase_order = excluded.phase_order, rows_read = excluded.rows_read, bytes_read = excluded.bytes_read,
			done = excluded.done, total = excluded.total, phase_times = excluded.phase_times, updated_at = excluded.updated_at
		WHERE import_progress.run < excluded.run
			OR (import_progress.run = excluded.run AND (import_progress.phase_order < excluded.phase_order
				OR (import_progress.phase_order = excluded.phase_order AND import_progress.done <= excluded.done
					AND import_progress.rows_read <= excluded.rows_read)))`),
		p.ImportID, p.Run, p.Phase, order, p.RowsRead, p.BytesRead, p.Done, p.Total, p.PhaseTimesJSON, p.UpdatedAt)
	if err != nil {
		return fmt.Errorf("save import progress: %w", err)
	}
	return nil
}

// ImportProgressBegin records the first progress of a run. The run number
// comes from the import's row (ImportStart, a compare-and-set there), so a
// stored run at or past it is left from a history the database no longer
// has (a backup restored beside a newer progress file): it is dropped
// rather than refusing every write of this run.
func ImportProgressBegin(ctx context.Context, db *DB, p *ImportProgress) error {
	q := db.progressDB()
	if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM import_progress WHERE import_id = ? AND run >= ?`),
		p.ImportID, p.Run); err != nil {
		return fmt.Errorf("begin import progress: %w", err)
	}
	return ImportProgressSet(ctx, db, p)
}

// ImportProgressGet reads the latest progress recorded for an import, or
// nil when none was.
func ImportProgressGet(ctx context.Context, db *DB, importID string) (*ImportProgress, error) {
	q := db.progressDB()
	var p ImportProgress
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT import_id, run, phase, rows_read, bytes_read, done, total, phase_times, updated_at
		FROM import_progress WHERE import_id = ?`), importID).StructScan(&p)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read import progress: %w", err)
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	return &p, nil
}

// ImportWithProgress fills im.Progress with its current run's recorded
// progress (nil when that run recorded none, or when im has not run), and
// while it is processing, im.RowsRead and im.BytesRead with the run's live
// figures (the import's own row has them once the run has ended).
// Progress of an older run is never shown as this one's.
func ImportWithProgress(ctx context.Context, db *DB, im *Import) error {
	im.Progress = nil
	if im.Run == 0 {
		return nil
	}
	p, err := ImportProgressGet(ctx, db, im.ID)
	if err != nil {
		return err
	}
	if p != nil && p.Run == im.Run {
		im.Progress = p
		if im.Status == ImportProcessing {
			im.RowsRead, im.BytesRead = p.RowsRead, p.BytesRead
		}
	}
	return nil
}

// ImportsWithProgress is ImportWithProgress for a list (a page of the
// import history), in one read of the progress store: a running import in
// the list shows the same live phase and figures as on its own.
func ImportsWithProgress(ctx context.Context, db *DB, list []Import) error {
	ids := make([]string, 0, len(list))
	for i := range list {
		list[i].Progress = nil
		if list[i].Run > 0 {
			ids = append(ids, list[i].ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	q := db.progressDB()
	query, args, err := sqlx.In(`SELECT import_id, run, phase, rows_read, bytes_read, done, total, phase_times, updated_at
		FROM import_progress WHERE import_id IN (?)`, ids)
	if err != nil {
		return fmt.Errorf("read import progress: %w", err)
	}
	var found []ImportProgress
	if err := sqlx.SelectContext(ctx, q, &found, q.Rebind(query), args...); err != nil {
		return fmt.Errorf("read import progress: %w", err)
	}
	byID := make(map[string]*ImportProgress, len(found))
	for i := range found {
		found[i].UpdatedAt = found[i].UpdatedAt.UTC()
		byID[found[i].ImportID] = &found[i]
	}
	for i := range list {
		im := &list[i]
		if p := byID[im.ID]; p != nil && p.Run == im.Run {
			im.Progress = p
			if im.Status == ImportProcessing {
				im.RowsRead, im.BytesRead = p.RowsRead, p.BytesRead
			}
		}
	}
	return nil
}
