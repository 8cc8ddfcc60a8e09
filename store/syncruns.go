package store

import (
	"context"
	"fmt"
	"time"
)

// SyncSchedule is the schedule an organisation's sync slots are counted
// from (migration 00010): Since is when the scheduler first saw this
// schedule and time zone, and no slot before it runs.
type SyncSchedule struct {
	OrgID            int64      `db:"org_id"`
	Schedule         string     `db:"schedule"`
	TimeZone         string     `db:"time_zone"`
	Since            time.Time  `db:"since"`
	NoRosterMailedAt *time.Time `db:"no_roster_mailed_at"`
}

// SyncScheduleGet reads the organisation's schedule state (ErrNotFound when
// the scheduler has not seen the organisation yet).
func SyncScheduleGet(ctx context.Context, q Querier, orgID int64) (*SyncSchedule, error) {
	var s SyncSchedule
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT org_id, schedule, time_zone, since, no_roster_mailed_at
		FROM sync_schedules WHERE org_id = ?`), orgID).StructScan(&s)
	if isNoRows(err) {
		return nil, fmt.Errorf("sync schedule of organisation %d: %w", orgID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get sync schedule: %w", err)
	}
	return &s, nil
}

// SyncScheduleSet records that the organisation's slots count from since
// under schedule and time zone (a new organisation, or a changed schedule).
// The last "no new roster" e-mail is kept: it is about the day, not the
// schedule.
func SyncScheduleSet(ctx context.Context, q Querier, orgID int64, schedule, timeZone string, since time.Time) error {
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO sync_schedules (org_id, schedule, time_zone, since) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET schedule = excluded.schedule, time_zone = excluded.time_zone, since = excluded.since`),
		orgID, schedule, timeZone, since.UTC())
	if err != nil {
		return fmt.Errorf("set sync schedule: %w", err)
	}
	return nil
}

// SyncScheduleMailed records a "no new roster" e-mail sent at at.
func SyncScheduleMailed(ctx context.Context, q Querier, orgID int64, at time.Time) error {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE sync_schedules SET no_roster_mailed_at = ? WHERE org_id = ?`), at.UTC(), orgID)
	if err != nil {
		return fmt.Errorf("record no-roster e-mail: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sync schedule of organisation %d: %w", orgID, ErrNotFound)
	}
	return nil
}

// SyncRun is one slot of an organisation's schedule that ran.
type SyncRun struct {
	OrgID    int64     `db:"org_id"`
	Slot     time.Time `db:"slot"`
	RanAt    time.Time `db:"ran_at"`
	ImportID *string   `db:"import_id"`
}

// SyncRunRecord records that the slot ran, as an insert that only one
// transaction wins: ErrExists when the slot had run already (another
// daemon, a job River ran twice). Run it in the transaction that makes the
// slot's imports, so a slot is recorded exactly when its work is.
func SyncRunRecord(ctx context.Context, q Querier, r *SyncRun) error {
	res, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO sync_runs (org_id, slot, ran_at, import_id) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, slot) DO NOTHING`), r.OrgID, r.Slot.UTC(), r.RanAt.UTC(), r.ImportID)
	if err != nil {
		return fmt.Errorf("record sync run: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sync of organisation %d at %s: %w", r.OrgID, r.Slot.UTC().Format(time.RFC3339), ErrExists)
	}
	return nil
}

// SyncRunLast is the organisation's latest slot that ran (nil when none).
func SyncRunLast(ctx context.Context, q Querier, orgID int64) (*SyncRun, error) {
	var runs []SyncRun
	if err := sqlxSelect(ctx, q, &runs, `SELECT org_id, slot, ran_at, import_id FROM sync_runs WHERE org_id = ?
		ORDER BY slot DESC LIMIT 1`, orgID); err != nil {
		return nil, fmt.Errorf("last sync run: %w", err)
	}
	if len(runs) == 0 {
		return nil, nil
	}
	return &runs[0], nil
}

// SyncRunList is the organisation's runs, oldest slot first.
func SyncRunList(ctx context.Context, q Querier, orgID int64) ([]SyncRun, error) {
	var runs []SyncRun
	if err := sqlxSelect(ctx, q, &runs, `SELECT org_id, slot, ran_at, import_id FROM sync_runs WHERE org_id = ?
		ORDER BY slot`, orgID); err != nil {
		return nil, fmt.Errorf("list sync runs: %w", err)
	}
	return runs, nil
}

// ImportLastArrived is when the file of the organisation's newest import
// of door was stored (its upload completed), nil when there is none: the
// "no new roster" e-mail says when the last roster arrived.
func ImportLastArrived(ctx context.Context, q Querier, orgID int64, door string) (*time.Time, error) {
	var at []time.Time
	if err := sqlxSelect(ctx, q, &at, `SELECT f.created_at FROM imports i JOIN files f ON f.id = i.file_id
		WHERE i.org_id = ? AND i.door = ? ORDER BY i.seq DESC LIMIT 1`, orgID, door); err != nil {
		return nil, fmt.Errorf("last import of door %s: %w", door, err)
	}
	if len(at) == 0 {
		return nil, nil
	}
	return &at[0], nil
}
