package sync

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/robfig/cron/v3"

	"rosterd/importer"
	"rosterd/jobs"
	"rosterd/roster"
	"rosterd/store"
)

// Scheduler decides when each organisation syncs. Exactly once with
// several daemons is River's and the database's, not a leader of its own:
// River's leader alone inserts the every-minute tick (a periodic job); the
// tick queues, for each organisation whose latest slot has come and not
// run, a sync job unique per (organisation, slot); and the job records the
// slot with its imports in one transaction (Runner), so a slot runs once
// even after River has forgotten its job.
//
// Schedules and time zones are read from the database at each tick, so a
// change takes effect without a restart. A slot is a cron time of the
// organisation's sync_schedule in its time_zone (robfig/cron/v3, as
// roster.ParseSchedule reads it); across DST, a time the clocks skip in
// spring does not run that night (robfig/cron finds no such time), and a
// time the clocks pass twice in autumn runs once, the first time (see
// LatestSlot). Only the latest slot runs: when every daemon was down over
// several slots, the next tick runs the last of them once. Slots from before
// the scheduler first saw a schedule never run, so a new organisation, or
// a changed schedule, does not sync for the past.
type Scheduler struct {
	Runner *Runner
	// Queue inserts the sync jobs (set once the River client exists).
	Queue *jobs.Client
	// Now is the clock; nil: time.Now. Tests move it instead of waiting.
	Now    func() time.Time
	Logger *slog.Logger
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Tick queues the sync job of every organisation whose latest slot has come
// and not run. It returns how many jobs it inserted (a job River already
// holds for the same slot is not counted). One organisation's problem (a
// schedule that no longer parses) is logged and does not stop the others.
func (s *Scheduler) Tick(ctx context.Context) (int, error) {
	now := s.now()
	orgs, err := store.OrgList(ctx, s.Runner.DB)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, org := range orgs {
		slot, err := s.due(ctx, &org, now)
		if err != nil {
			s.log().Error("sync schedule skipped", "org_id", org.ID, "org", org.Slug, "error", err)
			continue
		}
		if slot.IsZero() {
			continue
		}
		res, err := s.Queue.Insert(ctx, jobs.SyncArgs{OrgID: org.ID, Slot: slot.UTC()}, nil)
		if err != nil {
			return n, fmt.Errorf("queue the sync of %s at %s: %w", org.Slug, slot, err)
		}
		if !res.UniqueSkippedAsDuplicate {
			n++
			s.log().Info("sync due", "org_id", org.ID, "org", org.Slug, "slot", slot)
		}
	}
	return n, nil
}

// due is the organisation's slot to run now, zero when none. A schedule or
// time zone the scheduler has not seen before is recorded, with now as the
// time its slots count from.
func (s *Scheduler) due(ctx context.Context, org *store.Org, now time.Time) (time.Time, error) {
	sched, err := roster.ParseSchedule(org.SyncSchedule)
	if err != nil {
		return time.Time{}, err
	}
	loc, err := time.LoadLocation(org.TimeZone)
	if err != nil {
		return time.Time{}, fmt.Errorf("time_zone %q: %w", org.TimeZone, err)
	}
	db := s.Runner.DB
	st, err := store.SyncScheduleGet(ctx, db, org.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && (st.Schedule != org.SyncSchedule || st.TimeZone != org.TimeZone) {
		return time.Time{}, store.SyncScheduleSet(ctx, db, org.ID, org.SyncSchedule, org.TimeZone, now)
	}
	if err != nil {
		return time.Time{}, err
	}
	if sched == nil { // on_upload: FileArrived
		return time.Time{}, nil
	}
	from := st.Since
	last, err := store.SyncRunLast(ctx, db, org.ID)
	if err != nil {
		return time.Time{}, err
	}
	if last != nil && last.Slot.After(from) {
		from = last.Slot
	}
	return LatestSlot(sched, loc, from, now), nil
}

// LatestSlot is the last time of sched, in loc, after from and at or before
// now; zero when there is none. Slots are counted on the wall clock: one
// whose local time is not after the previous slot's (the hour the clocks
// pass twice when DST ends) is the same wall-clock time again and does not
// count, so a 02:30 schedule runs once that night. A wall-clock time the
// clocks skip when DST begins is not a slot at all (robfig/cron's Next
// passes over it), so a 02:30 schedule does not run that night.
func LatestSlot(sched cron.Schedule, loc *time.Location, from, now time.Time) time.Time {
	var latest time.Time
	prev := wall(from.In(loc))
	for t := sched.Next(from.In(loc)); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		if w := wall(t); w.After(prev) {
			prev, latest = w, t
		}
	}
	return latest
}

// wall is t's local date and time read as if in UTC, for comparing wall
// clocks across an offset change.
func wall(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	return time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), time.UTC)
}

// FileArrived is the SFTP door's call after a syncable file landed in /in/.
// For an on_upload organisation it queues a sync job unique per
// organisation and that file, so each completed file fires one sync (the
// sync takes the newest file of /in/, as a scheduled one does). For other
// organisations it does nothing: their schedule takes the file. Should it
// fail (the database away for a moment), SweepInbox queues the sync later.
func (s *Scheduler) FileArrived(ctx context.Context, orgID int64) error {
	org, err := store.OrgGet(ctx, s.Runner.DB, orgID)
	if err != nil {
		return err
	}
	if org.SyncSchedule != roster.SyncOnUpload {
		return nil
	}
	_, err = s.queueNewest(ctx, org)
	return err
}

// queueNewest queues the on_upload sync of the newest syncable file of the
// organisation's /in/, unique per organisation and file. It reports whether
// it inserted a job (false: /in/ holds no syncable file, or River holds the
// job already).
func (s *Scheduler) queueNewest(ctx context.Context, org *store.Org) (bool, error) {
	files, err := store.InboxList(ctx, s.Runner.DB, org.ID)
	if err != nil {
		return false, err
	}
	files = slices.DeleteFunc(files, func(f store.InboxFile) bool { return !importer.InboxSyncable(f.Name) })
	if len(files) == 0 {
		return false, nil
	}
	newest := slices.MaxFunc(files, func(a, b store.InboxFile) int {
		return cmp.Compare(a.Seq, b.Seq) // the database's order of arrival
	})
	res, err := s.Queue.Insert(ctx, jobs.SyncArgs{OrgID: org.ID, FileID: newest.FileID}, nil)
	if err != nil {
		return false, fmt.Errorf("queue the sync of %s: %w", org.Slug, err)
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

// SweepInbox queues the sync of every on_upload organisation that has a
// complete, syncable file waiting in /in/ and no sync job waiting or
// running: the file whose FileArrived failed after it was stored would
// otherwise wait for the next upload. River's leader runs it every
// jobs.InboxSweepEvery; the jobs it queues are the ones FileArrived would
// have (unique per organisation and file), so with several daemons, or a
// FileArrived that lands meanwhile, each file is still synced once. It
// returns how many jobs it inserted; one organisation's failure is logged
// and does not stop the others.
func (s *Scheduler) SweepInbox(ctx context.Context) (int, error) {
	orgs, err := store.OrgList(ctx, s.Runner.DB)
	if err != nil {
		return 0, err
	}
	busy, err := s.syncing(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, org := range orgs {
		if org.SyncSchedule != roster.SyncOnUpload || busy[org.ID] {
			continue
		}
		queued, err := s.queueNewest(ctx, &org)
		if err != nil {
			s.log().Error("on_upload sync not queued by the inbox sweep", "org_id", org.ID, "org", org.Slug, "error", err)
			continue
		}
		if queued {
			n++
			s.log().Info("queued the on_upload sync of a file waiting in /in/", "org_id", org.ID, "org", org.Slug)
		}
	}
	return n, nil
}

// syncing is the organisations that have a sync job waiting or running.
func (s *Scheduler) syncing(ctx context.Context) (map[int64]bool, error) {
	busy := map[int64]bool{}
	params := river.NewJobListParams().Kinds(jobs.SyncArgs{}.Kind()).States(rivertype.JobStateAvailable, rivertype.JobStatePending,
		rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled).First(1000)
	for {
		res, err := s.Queue.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("list sync jobs: %w", err)
		}
		for _, j := range res.Jobs {
			var args jobs.SyncArgs
			if err := json.Unmarshal(j.EncodedArgs, &args); err == nil {
				busy[args.OrgID] = true
			}
		}
		if len(res.Jobs) < 1000 {
			return busy, nil
		}
		params = params.After(res.LastCursor)
	}
}

// RunJob runs one sync job: the slot it names, or (no slot) an on_upload
// sync.
func (s *Scheduler) RunJob(ctx context.Context, args jobs.SyncArgs) (*Result, error) {
	return s.Runner.Run(ctx, RunParams{OrgID: args.OrgID, Slot: args.Slot, Now: s.now(), Actor: store.DoorSchedule})
}

// ArchiveLeavers archives, in every organisation, the leavers whose day has
// come (importer.Service.UsersArchiveDue). An organisation whose import
// holds its roster lock is left for the next hour.
func (s *Scheduler) ArchiveLeavers(ctx context.Context) (int64, error) {
	now := s.now()
	orgs, err := store.OrgList(ctx, s.Runner.DB)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, org := range orgs {
		n, err := s.Runner.Service.UsersArchiveDue(ctx, org.ID, now)
		if errors.Is(err, store.ErrBusy) {
			s.log().Warn("leavers left for the next hour: an import holds the roster", "org_id", org.ID, "org", org.Slug)
			continue
		}
		if err != nil {
			return total, fmt.Errorf("archive the leavers of %s: %w", org.Slug, err)
		}
		if n > 0 {
			s.log().Info("leavers archived on their day", "org_id", org.ID, "org", org.Slug, "users", n)
		}
		total += n
	}
	return total, nil
}

// PeriodicJobs are the scheduler's periodic jobs, inserted by River's leader.
func PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{jobs.SyncTickEveryMinute(), jobs.LeaversHourly(), jobs.InboxSweepPeriodic()}
}

// AddWorkers registers the scheduler's workers: the tick, the sync, the
// leavers and the inbox sweep.
func (s *Scheduler) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &tickWorker{s: s})
	river.AddWorker(w, &inboxSweepWorker{s: s})
	river.AddWorker(w, &syncWorker{s: s})
	river.AddWorker(w, &leaversWorker{s: s})
}

type tickWorker struct {
	river.WorkerDefaults[jobs.SyncTickArgs]
	s *Scheduler
}

func (w *tickWorker) Work(ctx context.Context, _ *river.Job[jobs.SyncTickArgs]) error {
	_, err := w.s.Tick(ctx)
	return err
}

type inboxSweepWorker struct {
	river.WorkerDefaults[jobs.InboxSweepArgs]
	s *Scheduler
}

func (w *inboxSweepWorker) Work(ctx context.Context, _ *river.Job[jobs.InboxSweepArgs]) error {
	_, err := w.s.SweepInbox(ctx)
	return err
}

type syncWorker struct {
	river.WorkerDefaults[jobs.SyncArgs]
	s *Scheduler
}

func (w *syncWorker) Work(ctx context.Context, job *river.Job[jobs.SyncArgs]) error {
	_, err := w.s.RunJob(ctx, job.Args)
	return err
}

type leaversWorker struct {
	river.WorkerDefaults[jobs.LeaversArgs]
	s *Scheduler
}

// Timeout leaves room for every organisation's lock wait (an import may
// hold a roster for a while); the job is safe to cut off and run again.
func (w *leaversWorker) Timeout(*river.Job[jobs.LeaversArgs]) time.Duration { return 30 * time.Minute }

func (w *leaversWorker) Work(ctx context.Context, _ *river.Job[jobs.LeaversArgs]) error {
	_, err := w.s.ArchiveLeavers(ctx)
	return err
}
