// Package sync is the scheduled full-roster sync (SPEC §5.3): each
// organisation's sync_schedule, in its time zone, turns the newest complete
// file of its SFTP /in/ into a full import (Runner), exactly once per slot
// however many daemons share the database (Scheduler). Import it as
// rostersync where it meets the standard library's sync.
package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/importer"
	"rosterd/jobs"
	"rosterd/notify"
	"rosterd/store"
)

// Runner runs one sync of one organisation through the import service.
type Runner struct {
	Service *importer.Service
	DB      *store.DB
	// Queue gets the "no new roster" e-mail's job, with the run's record.
	Queue  *jobs.Client
	Logger *slog.Logger
}

// RunParams is one sync.
type RunParams struct {
	OrgID int64
	// Slot is the scheduled time this run is for: it is recorded with the
	// run's imports, so it runs once, and a run that finds no roster e-mails
	// (at most once a day). Zero for a run that is no slot (`rosterd sync
	// run`, an on_upload file): nothing recorded, no e-mail.
	Slot time.Time
	// Now is when the run happens (the e-mail's day); zero: time.Now.
	Now time.Time
	// Delay holds the import's job back while the command line processes
	// it itself; the scheduler leaves it 0.
	Delay time.Duration
	// Actor runs the sync, as the journal records it: store.DoorSchedule
	// for the scheduler, store.DoorCLI for `rosterd sync run`.
	Actor string
	// Check, when set, is asked about the roster the run is taking, inside
	// the transaction that takes it: an error leaves /in/ as it was and is
	// returned. `rosterd sync run --errors-out FILE.xlsx` refuses a CSV
	// roster there, before anything is recorded or applied.
	Check func(ctx context.Context, roster *store.Import) error
}

// Result is what one sync did.
type Result struct {
	// Import is the full import of the newest roster (nil: /in/ held none);
	// Superseded the older rosters taken with it, oldest first.
	Import     *store.Import
	Superseded []*store.Import
	// ErrorsFiles are errors CSVs found in /in/ newer than Import, each a
	// queued import of its own that fails (importer.InboxTaken).
	ErrorsFiles []*store.Import
	// AlreadyRan: the slot had run already (another daemon, a repeated
	// job); nothing was done.
	AlreadyRan bool
	// Mailed: the "no new roster" e-mail was queued.
	Mailed bool
}

// Run takes the organisation's /in/ once (importer.Service.ImportInbox):
// the newest syncable file becomes a queued full import of door sftp, the
// older ones imports superseded by it. For a slot, the run is recorded in
// the same transaction (store.SyncRunRecord), so of two daemons running the
// same slot one does it and the other finds it done; and when /in/ held no
// roster, the "no new roster" e-mail is queued with it unless one went out
// the same day (in the organisation's time zone).
func (r *Runner) Run(ctx context.Context, p RunParams) (*Result, error) {
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	res := &Result{}
	taken, err := r.Service.ImportInbox(ctx, importer.ImportInboxParams{OrgID: p.OrgID, Delay: p.Delay, Actor: p.Actor,
		InTx: func(ctx context.Context, tx *sqlx.Tx, taken *importer.InboxTaken) error {
			res.Mailed = false
			if p.Check != nil && taken.Import != nil {
				if err := p.Check(ctx, taken.Import); err != nil {
					return err
				}
			}
			if p.Slot.IsZero() {
				return nil
			}
			run := &store.SyncRun{OrgID: p.OrgID, Slot: p.Slot, RanAt: p.Now}
			if taken.Import != nil {
				run.ImportID = &taken.Import.ID
			}
			if err := store.SyncRunRecord(ctx, tx, run); err != nil {
				return err
			}
			if taken.Import != nil {
				return nil
			}
			mailed, err := r.noRoster(ctx, tx, p)
			res.Mailed = mailed
			return err
		}})
	if errors.Is(err, store.ErrExists) {
		res.AlreadyRan, res.Mailed = true, false
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sync of organisation %d: %w", p.OrgID, err)
	}
	res.Import, res.Superseded, res.ErrorsFiles = taken.Import, taken.Superseded, taken.ErrorsFiles
	if r.Logger != nil {
		switch {
		case res.Import != nil:
			r.Logger.Info("sync took the newest roster of /in/", "org_id", p.OrgID, "slot", p.Slot, "import_id", res.Import.ID,
				"file", res.Import.FileName, "superseded", len(res.Superseded), "errors_files", len(res.ErrorsFiles))
		default:
			r.Logger.Info("sync found no new roster in /in/", "org_id", p.OrgID, "slot", p.Slot, "mailed", res.Mailed)
		}
	}
	return res, nil
}

// noRoster queues the "no new roster" e-mail unless one went out on the
// same day, in the organisation's time zone, as p.Now.
func (r *Runner) noRoster(ctx context.Context, tx *sqlx.Tx, p RunParams) (bool, error) {
	org, err := store.OrgGet(ctx, tx, p.OrgID)
	if err != nil {
		return false, err
	}
	st, err := store.SyncScheduleGet(ctx, tx, p.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		// A slot run before any tick saw the organisation: record the
		// schedule from the slot on, so the e-mail's day can be kept.
		if err := store.SyncScheduleSet(ctx, tx, p.OrgID, org.SyncSchedule, org.TimeZone, p.Slot); err != nil {
			return false, err
		}
		st = &store.SyncSchedule{}
	} else if err != nil {
		return false, err
	}
	loc := org.Location()
	if st.NoRosterMailedAt != nil && sameDay(st.NoRosterMailedAt.In(loc), p.Now.In(loc)) {
		return false, nil
	}
	n, err := notify.EnqueueNoNewFileTx(ctx, tx, r.Queue, org)
	if err != nil {
		return false, err
	}
	if err := store.SyncScheduleMailed(ctx, tx, p.OrgID, p.Now); err != nil {
		return false, err
	}
	return n != nil, nil
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}
