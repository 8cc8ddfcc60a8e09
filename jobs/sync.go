package jobs

import (
	"time"

	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"
)

// SyncTickArgs asks a worker to look, for every organisation, whether a
// slot of its sync_schedule has come, and to queue its SyncArgs.
type SyncTickArgs struct{}

// Kind names the job in River's table.
func (SyncTickArgs) Kind() string { return "sync_tick" }

// SyncArgs asks a worker to run one sync of one organisation: a slot of its
// schedule (Slot), or a file completed in /in/ of an on_upload organisation
// (FileID). River's unique options key it by both, so each slot or file is
// queued once however many daemons see it.
type SyncArgs struct {
	OrgID  int64     `json:"org_id" river:"unique"`
	Slot   time.Time `json:"slot,omitzero" river:"unique"`
	FileID int64     `json:"file_id,omitempty" river:"unique"`
}

// Kind names the job in River's table.
func (SyncArgs) Kind() string { return "sync" }

// InsertOpts makes the job unique per organisation and slot (or file) for
// as long as River keeps it; the sync_runs table keeps a slot from running
// twice after that.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// LeaversArgs asks a worker to archive every organisation's leavers whose
// day has come.
type LeaversArgs struct{}

// Kind names the job in River's table.
func (LeaversArgs) Kind() string { return "leavers" }

// SyncTickEveryMinute is the scheduler's tick: each minute, and once when a
// daemon becomes River's leader (a missed slot runs at the next start).
// Only the leader, one of the daemons sharing the database, inserts it.
func SyncTickEveryMinute() *river.PeriodicJob {
	sched, _ := cron.ParseStandard("* * * * *")
	return river.NewPeriodicJob(sched,
		func() (river.JobArgs, *river.InsertOpts) {
			return SyncTickArgs{}, &river.InsertOpts{MaxAttempts: 1}
		},
		&river.PeriodicJobOpts{RunOnStart: true})
}

// LeaversHourly archives due leavers each hour, and once when a daemon
// becomes River's leader.
func LeaversHourly() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return LeaversArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// InboxSweepArgs asks a worker to queue the sync of every on_upload
// organisation whose /in/ holds a complete file that no sync job will take
// (the door stored the file, then could not queue its sync).
type InboxSweepArgs struct{}

// Kind names the job in River's table.
func (InboxSweepArgs) Kind() string { return "inbox_sweep" }

// InboxSweepEvery is how often the inbox sweep runs: a file whose on_upload
// sync was not queued waits at most this long (plus the sync itself). A
// constant, not a setting: it only bounds a rare failure's delay; tests call
// the sweep directly (sync.Scheduler.SweepInbox).
const InboxSweepEvery = 5 * time.Minute

// InboxSweepPeriodic runs the inbox sweep every InboxSweepEvery, and once
// when a daemon becomes River's leader (files left while every daemon was
// down are synced at the next start). Only the leader inserts it; the sync
// jobs it queues are unique per organisation and file besides.
func InboxSweepPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(InboxSweepEvery),
		func() (river.JobArgs, *river.InsertOpts) {
			return InboxSweepArgs{}, &river.InsertOpts{MaxAttempts: 1}
		},
		&river.PeriodicJobOpts{RunOnStart: true})
}
