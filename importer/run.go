package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/csvfile"
	"rosterd/roster"
	"rosterd/store"
)

// RunParams is one processing of one recorded import.
type RunParams struct {
	Import *store.Import // as recorded: queued (or held and approved)
	Limits Limits
	// PGPKeyGrace is pgp_key_grace: how long a rotated key still decrypts;
	// 0: DefaultPGPKeyGrace.
	PGPKeyGrace time.Duration
	// TmpDir is where a workbook is spooled while it is read, sealed
	// (xlsxfile: encrypted under a key held in memory, so that a roster
	// that came PGP-encrypted is never on disk in clear); "": the system's.
	// rosterd's doors set tmp_dir (data_dir/tmp), not the system's, which
	// is often RAM. Tests look at it at StepOpened.
	TmpDir string
	// Now is the time the import is judged at (archive dates); zero: time.Now.
	Now time.Time
	// Progress, when set, is told how far reading has got, every page of
	// rows.
	Progress func(rowsRead, bytesRead int64)
	// Holding, when set, is told the size of the largest thing the run
	// holds for a while, before the run makes it: the table of the
	// organisation's known fingerprints (12 bytes a user); and 0 once the
	// checks, its last readers, are done with it (see dropKnown). A
	// revert, or a file that fails before its rows are read, tells
	// nothing; a run that ends before its checks are done (a fault in the
	// file, a cancellation, ErrImportBusy) tells no 0, and a run taken
	// again tells its own table's size. The command line, which bounds its
	// own memory, makes room for the table while it is held. Not counted:
	// what the checks hold for a while after the read (the cycle check's
	// links, 8 bytes a user), which the streaming budget covers.
	Holding func(bytes int64)
	// ReturnMemory hands the read's garbage back to the operating system
	// once a large file is staged (see freeAfterRows). The command line
	// sets it: one import is all its process does. A daemon leaves it
	// unset: a forced collection and scavenge there would also take the
	// pages that its other imports and requests are about to reuse.
	ReturnMemory bool
	// Watch, when set, is told the run's progress (phase and figures) each
	// time it is recorded, at least once a second: the command line's
	// progress bar.
	Watch  func(store.ImportProgress)
	Logger *slog.Logger
	// Finalize runs in the transaction that records the outcome, so what it
	// writes (the notification and its job) commits with it or not at all.
	Finalize func(ctx context.Context, tx *sqlx.Tx, im *store.Import) error
	// Pause, when set, is called as the import reaches each Step; it may block.
	// Tests use it to hold an import at the worst moment (to write the roster
	// under it, or to kill its process); production leaves it nil.
	Pause func(ctx context.Context, step Step)
	// Observer, when set, is told how long each phase took and the outcome
	// the run recorded (the daemon's metrics).
	Observer Observer
	// Explain, when set, is given the plan of each set-wise statement that
	// joins the file with the roster (checks, plan, apply) before it runs, as
	// the database plans it in the import's transaction: PostgreSQL's EXPLAIN
	// (FORMAT JSON), or SQLite's EXPLAIN QUERY PLAN as "id parent detail"
	// lines. Tests use it to prove that no plan goes quadratic when the
	// roster's statistics are stale; production leaves it nil.
	Explain func(statement, plan string)
}

// Step names a point in an import's run where RunParams.Pause is called.
type Step string

// The steps of a run, in order.
const (
	StepOpened     Step = "opened"     // the file is open and its header read, before its first row: a workbook's sealed spools are all written
	StepStaged     Step = "staged"     // the file is read and staged; nothing checked yet
	StepPlanned    Step = "planned"    // checked and planned, nothing applied yet
	StepApplied    Step = "applied"    // the roster is written, the transaction still open
	StepCommitting Step = "committing" // the outcome is recorded; the commit comes next
)

func (r *run) pause(ctx context.Context, s Step) {
	if r.p.Pause != nil {
		r.p.Pause(ctx, s)
	}
}

// dueArchiveLockWait is how long archiving due leavers waits for another
// import of the organisation to commit before the run is retried later.
const dueArchiveLockWait = 2 * time.Second

// maxWarnings bounds the warning list of one import: a file with a million
// mangled phone numbers must not produce a million-line e-mail.
const maxWarnings = 100

// Run processes a recorded import end to end: it reads the stored file,
// validates it, plans the changes against the stored roster and applies them
// in one transaction (unless it is a dry run or held), writes the errors CSV,
// and records the outcome on the import. A file-level problem ends the import
// as failed with nothing applied; Run returns an error only when the import
// could not be processed at all (database down, cancelled context), in which
// case nothing was applied and it may be run again.
func Run(ctx context.Context, db *store.DB, p RunParams) (*Outcome, error) {
	im := p.Import
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	p.Now = p.Now.UTC().Truncate(time.Second)
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	p.Logger = p.Logger.With("import_id", im.ID, "org_id", im.OrgID)
	org, err := store.OrgGet(ctx, db, im.OrgID)
	if err != nil {
		return nil, err
	}
	// Leavers whose last day has passed are archived first, on their own:
	// that is time passing, not this import, and the import must see them as
	// they are now. A dry run writes nothing to the roster, so it leaves them
	// for the next real import.
	if !im.DryRun {
		if _, err := archiveDue(ctx, db.InTx, org.ID, p.Now, dueArchiveLockWait); err != nil {
			return nil, err
		}
	}
	started := time.Now().UTC()
	var runNo int64
	if err := db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := store.ImportStart(ctx, tx, im.ID, started); err != nil {
			return err
		}
		return tx.GetContext(ctx, &runNo, tx.Rebind(`SELECT run FROM imports WHERE id = ?`), im.ID)
	}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrImportFinished
		}
		return nil, err
	}
	im.Status, im.StartedAt, im.FinishedAt, im.Error = store.ImportProcessing, &started, nil, ""
	im.Counts, im.ErrorsFileID, im.ErrorsXLSXFileID, im.Run, im.RowsRead, im.BytesRead = store.Counts{}, nil, nil, runNo, 0, 0

	// The run's context ends when the import is cancelled under it (the
	// progress writer hears of it): whatever it had not committed rolls back.
	ctx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	progress := newProgressWriter(ctx, db, im.ID, runNo, p.Progress, p.Watch, stopRun)
	p.Progress = progress.report
	r := &run{p: p, db: db, org: org, im: im, mode: Mode(im.Mode), active: -1, progress: progress}
	if db.Dialect == store.SQLite {
		err = r.processSQLite(ctx)
	} else {
		err = db.InConnTx(ctx, func(conn *sqlx.Conn, tx *sqlx.Tx) error {
			r.tx, r.staging = tx, copyTx{Tx: tx, conn: conn}
			if err := guard(ctx, tx, im); err != nil {
				return err
			}
			// A million-row sync joins its staging tables whole: with the
			// default 4 MB, those hash joins spill to disk in batches. And the
			// planner's cost guesses for the checks' anti-joins are large
			// enough to call the JIT compiler, which then spends a second
			// compiling a query that reads a handful of rows.
			for _, q := range []string{`SET LOCAL work_mem = '64MB'`, `SET LOCAL jit = off`} {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("import settings: %w", err)
				}
			}
			if err := r.prepare(ctx); err != nil {
				return err
			}
			if err := r.process(ctx); err != nil {
				return err
			}
			if err := unindexStaging(ctx, r.staging); err != nil {
				return err
			}
			return r.finish(ctx, tx)
		})
	}
	progress.stop()
	if cause := context.Cause(ctx); err != nil && ctx.Err() != nil && (errors.Is(cause, ErrImportCancelled) || errors.Is(cause, ErrImportFinished)) {
		p.Logger.Info("import stopped: it ended under this run", "why", cause)
		return nil, cause
	}
	var fatal *FatalError
	switch {
	case errors.As(err, &fatal):
		finished := time.Now().UTC()
		im.Status, im.Error, im.FinishedAt = store.ImportFailed, fatal.Error(), &finished
		im.Counts = store.Counts{}
		im.SetWarnings(r.finalWarnings())
		im.ErrorsFileID, im.ErrorsXLSXFileID = nil, nil
		if err := db.InTx(ctx, func(tx *sqlx.Tx) error { return r.finish(ctx, tx) }); errors.Is(err, ErrImportFinished) {
			return nil, ended(ctx, db, im.ID)
		} else if err != nil {
			return nil, err
		}
		progress.ended()
		p.Logger.Info("import failed", "error", im.Error)
		if p.Observer != nil {
			p.Observer.ImportEnded(im)
		}
		return &Outcome{Import: im}, nil
	case errors.As(err, new(*supersededError)):
		var se *supersededError
		errors.As(err, &se)
		if err := db.InTx(ctx, func(tx *sqlx.Tx) error {
			_, err := store.ImportsSupersede(ctx, tx, im.OrgID, se.by, time.Now().UTC())
			return err
		}); err != nil {
			return nil, err
		}
		p.Logger.Info("import superseded: a newer roster was applied while it waited", "by", se.by)
		return nil, ErrImportFinished
	case errors.Is(err, ErrImportFinished):
		return nil, ended(ctx, db, im.ID)
	case errors.Is(err, ErrImportBusy):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("import %s: %w", im.ID, err)
	}
	progress.ended()
	p.Logger.Info("import finished", "status", im.Status, "door", im.Door, "mode", im.Mode, "rows", im.Rows,
		"created", im.Created, "updated", im.Updated, "unchanged", im.Unchanged, "archived", im.Archived,
		"restored", im.Restored, "failed", im.Failed, "known_rows_skipped", r.skipped)
	if p.Observer != nil {
		p.Observer.ImportEnded(im)
	}
	return &Outcome{Import: im, FirstErrors: r.firstErrors}, nil
}

// processSQLite reads and stages the file before it begins the import's
// transaction, on the connection that transaction then runs on: staging
// tables are TEMP tables, and writing them takes no lock on the main
// database, so progress updates and other writers go on while a large file
// is read. SQLite's write transaction (BEGIN IMMEDIATE) then covers the
// checks, the plan and the apply. It begins only once this process's other
// write transactions are done (store.DB.LockWrites): an import of another
// organisation applying meanwhile makes this one wait its turn, not fail
// with SQLITE_BUSY after busy_timeout and read its whole file again.
func (r *run) processSQLite(ctx context.Context) error {
	conn, err := r.db.Connx(ctx)
	if err != nil {
		return fmt.Errorf("import connection: %w", err)
	}
	defer conn.Close()
	r.staging = stagingOn{conn}
	defer func() { _ = dropStaging(context.WithoutCancel(ctx), stagingOn{conn}) }()
	if err := r.prepare(ctx); err != nil {
		return err
	}
	unlock, err := r.db.LockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// Also on a panic: conn.Close (deferred above) waits for the transaction.
	defer tx.Rollback() //nolint:errcheck // after a commit it is a no-op
	r.tx = tx
	err = guard(ctx, tx, r.im)
	if err == nil {
		err = r.process(ctx)
	}
	if err == nil {
		err = r.finish(ctx, tx)
	}
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// stagingOn adapts a pinned connection to stagingConn.
type stagingOn struct{ c *sqlx.Conn }

func (s stagingOn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.c.ExecContext(ctx, q, args...)
}

func (s stagingOn) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return s.c.PrepareContext(ctx, q)
}

func (s stagingOn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return s.c.QueryRowContext(ctx, q, args...)
}

// ErrImportBusy means another worker is applying an import of the same
// organisation right now; try again shortly.
var ErrImportBusy = store.ErrBusy

// ErrImportFinished means the import was already processed (by another
// worker, or before a crash cut off the job's own bookkeeping): nothing to do.
var ErrImportFinished = errors.New("the import is already finished")

// ErrImportCancelled means the import was cancelled while this run processed
// it; nothing of the run was committed.
var ErrImportCancelled = errors.New("the import was cancelled while it ran; nothing of it was applied")

// ended says why a run found its import no longer processing: cancelled
// under it, or finished by another run.
func ended(ctx context.Context, db *store.DB, id string) error {
	if status, err := store.ImportStatus(context.WithoutCancel(ctx), db, id); err == nil && status == store.ImportCancelled {
		return ErrImportCancelled
	}
	return ErrImportFinished
}

// supersededError stops the run of an older full roster when a newer one
// was applied while it waited: it is recorded superseded, not applied.
type supersededError struct{ by string }

func errSupersededBy(by string) error { return &supersededError{by: by} }

func (e *supersededError) Error() string {
	return "a newer roster, import " + e.by + ", was applied while this one waited"
}

// guard makes sure this is the only transaction applying an import of the
// organisation, and that this import still needs applying. It takes the
// organisation's roster lock (store.OrgTryLock), which every writer of its
// users takes, so nothing writes the roster between this import's plan and
// its apply.
func guard(ctx context.Context, tx *sqlx.Tx, im *store.Import) error {
	got, err := store.OrgTryLock(ctx, tx, im.OrgID)
	if err != nil {
		return err
	}
	if !got {
		return ErrImportBusy
	}
	var status string
	if err := tx.GetContext(ctx, &status, tx.Rebind(`SELECT status FROM imports WHERE id = ?`), im.ID); err != nil {
		return fmt.Errorf("check import: %w", err)
	}
	if status != store.ImportProcessing {
		return ErrImportFinished
	}
	if im.Mode == string(ModeFull) && !im.DryRun {
		// A newer roster was applied while this one waited: the newest
		// roster wins, this one must not roll it back.
		newer, err := store.ImportNewerApplied(ctx, tx, im.OrgID, im.ID)
		if err != nil {
			return err
		}
		if newer != "" {
			return errSupersededBy(newer)
		}
	}
	return nil
}

// finish records the outcome, only if no other run recorded one first, and
// lets the caller add what must commit with it (the e-mail).
func (r *run) finish(ctx context.Context, tx *sqlx.Tx) error {
	r.setPhase(store.PhaseFinishing, 0)
	if err := store.ImportFinish(ctx, tx, r.im); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrImportFinished
		}
		return err
	}
	if r.header.Names != nil {
		// What the next full sync compares its header with (headerDrift).
		if err := store.ImportSetHeader(ctx, tx, r.im.ID, r.header.Names); err != nil {
			return err
		}
	}
	if r.mode == ModeFull && !r.im.DryRun && (r.im.Status == store.ImportSucceeded || r.im.Status == store.ImportCompletedWithErrors) {
		// This roster is applied: an older one still waiting (held, or
		// queued again after an approval) would roll the roster back.
		if _, err := store.ImportsSupersede(ctx, tx, r.im.OrgID, r.im.ID, *r.im.FinishedAt); err != nil {
			return err
		}
	}
	if r.p.Finalize != nil {
		if err := r.p.Finalize(ctx, tx, r.im); err != nil {
			return err
		}
	}
	r.pause(ctx, StepCommitting)
	return nil
}

// Outcome is what Run reports: the import as recorded, and the first
// messages of failed rows with their line numbers, for a summary.
type Outcome struct {
	Import      *store.Import
	FirstErrors []string
}

// firstErrorsShown is how many messages a summary lists.
const firstErrorsShown = 20

// run is the state of one import while it is processed.
type run struct {
	p            RunParams
	db           *store.DB
	tx           *sqlx.Tx
	staging      stagingConn // where the file is staged: tx, or on SQLite its connection before tx begins
	org          *store.Org
	im           *store.Import
	mode         Mode
	cols         *Columns
	header       Header
	warnings     []string
	dropped      int // warnings past maxWarnings
	skipped      int // rows skipped as known (see fingerprint)
	restaged     int // of those, the ones staged after all, their id repeated (see stageRepeatedKnown)
	known        *knownRows
	knownReports bool // stage_known_reports is filled (see stageKnownReports)
	skippedValid int  // of those, the ones no check failed (see count)
	missing      int  // users a full sync archives for being missing (see count)
	// The plan's valid rows that create a user, and the others (see count):
	// apply runs no statement for a kind without rows.
	plannedCreates, plannedOthers int
	toMerge                       int  // staged patches that are not a new user's whole record (see plan)
	toCreate                      int  // staged patches that are (see planCreates)
	createDirect                  bool // the organisation had no users: rows that create one are staged as plan rows
	createdDirect                 int  // rows so staged
	noStoredUsers                 bool // the organisation has no users (seen in the import's transaction, see plan)
	active                        int  // active users before the import, -1 until counted
	archived                      int  // archived users before the import, counted with active
	indexed                       bool // the staging tables are indexed (see indexStaging)
	seq                           int  // orders the messages of cross-row checks after a row's own
	firstErrors                   []string
	progress                      *progressWriter // nil in tests that build a run by hand
	// managerWarnings name the archived managers that valid rows name, as
	// the last round of the manager check found them (see checkManagers).
	managerWarnings []string
	// loc is the organisation's time zone, loaded once (see prepare): the
	// user rules read it for every row.
	loc *time.Location

	anyFailed bool    // a row has failed (see judgeFailed)
	workbook  bool    // the file is an .xlsx workbook
	numberIDs lineSet // lines whose external_id the workbook stored as a number
}

func (r *run) warn(w ...string) {
	for _, s := range w {
		if len(r.warnings) < maxWarnings {
			r.warnings = append(r.warnings, s)
		} else {
			r.dropped++
		}
	}
}

func (r *run) finalWarnings() []string {
	w := r.warnings
	if r.dropped > 0 {
		w = append(w[:len(w):len(w)], fmt.Sprintf("and %d more warnings", r.dropped))
	}
	return w
}

// The phases of a run, as logged and as the metrics label them.
const (
	PhaseRead  = "read"  // read, decode and validate the file into staging
	PhaseCheck = "check" // cross-row checks and the plan
	PhaseCount = "count" // counts, the archive threshold and the errors CSV
	PhaseApply = "apply" // write the roster
)

// phase logs how long a phase of the import took, for operators tuning a
// large sync (log_level debug), and tells the observer.
func (r *run) phase(name string, start time.Time) time.Time {
	now := r.step(name, start)
	if r.p.Observer != nil {
		r.p.Observer.ImportPhase(name, now.Sub(start))
	}
	return now
}

// step logs how long a part of a phase took (log_level debug); the
// metrics see only the phases.
func (r *run) step(name string, start time.Time) time.Time {
	if r.progress != nil {
		r.progress.stepDone()
	}
	now := time.Now()
	r.p.Logger.Debug("import phase", "phase", name, "took", now.Sub(start).Round(time.Millisecond))
	return now
}

// freeAfterRows is the size of file whose read hands its garbage back to the
// operating system once it is staged, when RunParams.ReturnMemory is set (debug.FreeOSMemory: one collection
// and a scavenge, a few milliseconds). Reading and validating a row leaves
// some 7 KB of garbage, and the Go heap keeps the pages it grew to while
// the SQL phases that follow (checks, plan, apply) allocate little: no
// collection comes, and those pages would stay resident beside the memory
// the database grows to in those phases. A first import of a million rows
// peaked at 72.6 MiB that way on SQLite, in its checks; handed back, the
// peak is the read's.
const freeAfterRows = 50_000

// prepare creates the staging tables and reads the file into them.
func (r *run) prepare(ctx context.Context) error {
	t := time.Now()
	r.loc = r.org.Location()
	if err := createStaging(ctx, r.staging, r.db.Dialect); err != nil {
		return err
	}
	if r.mode == ModeRevert {
		// A revert reads the journal, in the import's transaction (see
		// planRevert): nothing to read before it.
		return nil
	}
	if err := r.stage(ctx); err != nil {
		return err
	}
	if r.p.ReturnMemory && r.im.RowsRead >= freeAfterRows {
		debug.FreeOSMemory()
	}
	r.phase(PhaseRead, t)
	r.pause(ctx, StepStaged)
	return nil
}

// dropKnown lets the table of known fingerprints go once the checks, its
// last readers, are done: 12 bytes a stored user, 12 MiB of a sync of a
// million, that would otherwise stay resident through the apply. Where one
// import is all the process does (RunParams.ReturnMemory), a large table's
// pages go back to the system at once: on SQLite the apply's own memory
// (outside the Go heap) peaks on top of them.
func (r *run) dropKnown() {
	if r.known == nil {
		return
	}
	large := r.known.users >= freeAfterRows
	r.known = nil
	if r.p.ReturnMemory && large {
		debug.FreeOSMemory()
	}
	if r.p.Holding != nil {
		r.p.Holding(0)
	}
}

// process checks, plans and (unless dry run or held) applies the staged file
// in the import's transaction.
func (r *run) process(ctx context.Context) error {
	t := time.Now()
	r.setPhase(store.PhaseChecking, 0)
	if err := r.check(ctx); err != nil {
		return err
	}
	r.dropKnown()
	t = r.phase(PhaseCheck, t)
	counts, wouldArchive, err := r.count(ctx)
	if err != nil {
		return err
	}
	r.im.Counts = counts

	held, err := r.judgeArchives(ctx, wouldArchive)
	if err != nil {
		return err
	}

	if r.mode != ModeRevert { // a revert's conflicts are its failed entries
		errorsCSV, errorsXLSX, err := r.writeErrorsFiles(ctx)
		if err != nil {
			return err
		}
		r.im.ErrorsFileID, r.im.ErrorsXLSXFileID = errorsCSV, errorsXLSX
	}
	if err := r.journal(ctx, held || r.im.DryRun); err != nil {
		return err
	}

	t = r.phase(PhaseCount, t)
	r.pause(ctx, StepPlanned)
	if !held && !r.im.DryRun {
		r.setPhase(store.PhaseSaving, int64(r.im.Created+r.im.Updated+r.im.Restored+r.im.Archived))
		if err := r.apply(ctx); err != nil {
			return err
		}
	}
	r.pause(ctx, StepApplied)
	r.phase(PhaseApply, t)
	firstErrors := `SELECT 'line ' || line || ': ' || message FROM stage_errors ORDER BY line, seq LIMIT ?`
	if r.mode == ModeRevert { // no file, no lines: the user's id
		firstErrors = `SELECT 'user ' || k.external_id || ': ' || e.message FROM stage_errors e JOIN stage_rows k ON k.line = e.line
			ORDER BY e.line, e.seq LIMIT ?`
	}
	if err := r.tx.SelectContext(ctx, &r.firstErrors, r.tx.Rebind(firstErrors), firstErrorsShown); err != nil {
		return fmt.Errorf("read errors: %w", err)
	}

	finished := time.Now().UTC()
	r.im.FinishedAt = &finished
	r.im.SetWarnings(r.finalWarnings())
	switch {
	case held:
		r.im.Status = store.ImportHeld
	case r.im.Failed > 0:
		r.im.Status = store.ImportCompletedWithErrors
	default:
		r.im.Status = store.ImportSucceeded
	}
	return nil
}

// setPhase moves the run's progress to a later phase (see progressWriter).
func (r *run) setPhase(phase string, total int64) {
	if r.progress != nil {
		r.progress.setPhase(phase, total)
	}
}

// saved counts rows written to the roster while saving.
func (r *run) saved(n int64) {
	if r.progress != nil {
		r.progress.advance(r.progress.current().Done + n)
	}
}

// activeUsers counts the organisation's active users before the import
// (asked once: nothing changes them before the apply).
func (r *run) activeUsers(ctx context.Context) (int, error) {
	if r.active >= 0 {
		return r.active, nil
	}
	all, n, err := countUsers(ctx, r.tx, r.org.ID)
	if err != nil {
		return 0, fmt.Errorf("count active users: %w", err)
	}
	r.active, r.archived = n, all-n
	return n, nil
}

// nothingToCheck tells an import where no cross-row rule can fail a row and
// nothing is to be planned, given the organisation's active and archived
// users: every row was skipped as known (so none is new, changed or failed,
// and no two repeat an id), nobody is missing from a full roster, and no
// user is archived (the one way a known row's stored manager can have
// stopped being valid). The nightly sync of an unchanged roster is that
// case; its checks and the indexes they need are not built.
func (r *run) nothingToCheck(active, archived int) bool {
	return r.skipped == int(r.im.RowsRead) && archived == 0 && (r.mode != ModeFull || r.skipped == active)
}

// overThreshold is the safety rule of SPEC §3: a sync is held when it would
// archive more than the percentage of active users and more than the minimum.
func overThreshold(archive, active int, org *store.Org) bool {
	return archive > org.ArchiveThresholdMin && archive*100 > org.ArchiveThresholdPercent*active
}

func heldMessage(mode Mode, archive, active int, org *store.Org) string {
	what := "sync"
	if mode == ModeRevert {
		what = "revert"
	}
	pct := 0.0
	if active > 0 {
		pct = float64(archive) * 100 / float64(active)
	}
	users := "users"
	if org.ArchiveThresholdMin == 1 {
		users = "user"
	}
	return fmt.Sprintf("this %s would archive %s of %s active users (%.1f%%), more than the organisation's threshold "+
		"of %d%% and %s %s", what,
		store.FormatCount(archive), store.FormatCount(active), pct, org.ArchiveThresholdPercent, store.FormatCount(org.ArchiveThresholdMin), users)
}

// openSource streams the import's stored file, its layers peeled.
func (r *run) openSource(ctx context.Context) (*peeled, error) {
	// Read on a connection of its own: the file was committed when it was
	// accepted, and the import's transaction is busy writing the staging
	// tables meanwhile (PostgreSQL's COPY allows nothing else on its connection).
	return openRoster(ctx, r.db, rosterSource{OrgID: r.im.OrgID, FileID: r.im.FileID, Name: r.im.FileName,
		Limits: r.p.Limits, KeyGrace: r.p.PGPKeyGrace, Now: r.p.Now})
}

func (r *run) readerOptions() csvfile.ReaderOptions {
	return csvfile.ReaderOptions{Limits: r.p.Limits, KnownColumn: roster.KnownColumn}
}

// joinLines renders "4 and 9" or "4, 9 and 12", shortening long lists.
func joinLines(lines []int) string {
	const show = 10
	parts := make([]string, 0, min(len(lines), show))
	for i, l := range lines {
		if i == show {
			break
		}
		parts = append(parts, fmt.Sprint(l))
	}
	if len(lines) > show {
		return strings.Join(parts, ", ") + fmt.Sprintf(" and %d more", len(lines)-show)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
