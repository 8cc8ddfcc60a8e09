package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"rosterd/roster"
)

// User statuses, as stored.
const (
	StatusActive   = roster.StatusActive
	StatusArchived = roster.StatusArchived
)

// User is one employee of one organisation as stored: the roster's view of
// the user (external id, fields, status, fields hash) and the row's identity
// and dates.
type User struct {
	ID    int64
	OrgID int64
	roster.User
	CreatedAt time.Time
	UpdatedAt time.Time
}

// plainColumns and localizedColumns are roster's column catalogue, copied
// once: ScanUser loops over them for every row. Read only.
var (
	plainColumns     = roster.PlainColumns()
	localizedColumns = roster.LocalizedColumns()
)

// UserColumns is the SELECT list ScanUser expects.
func UserColumns() string {
	return "id, org_id, external_id, " + strings.Join(plainColumns, ", ") + ", " +
		strings.Join(localizedColumns, ", ") + ", status, archived_at, row_hash, created_at, updated_at"
}

// ScanUser reads one row selected with UserColumns.
func ScanUser(sc interface{ Scan(...any) error }) (*User, error) {
	u := &User{User: roster.User{Plain: map[string]string{}, Localized: map[string]map[string]string{}}}
	plain := make([]string, len(plainColumns))
	loc := make([]string, len(localizedColumns))
	dest := []any{&u.ID, &u.OrgID, &u.ExternalID}
	for i := range plain {
		dest = append(dest, &plain[i])
	}
	for i := range loc {
		dest = append(dest, &loc[i])
	}
	dest = append(dest, &u.Status, &u.ArchivedAt, &u.FieldsHash, &u.CreatedAt, &u.UpdatedAt)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	for i, c := range plainColumns {
		if plain[i] != "" {
			u.Plain[c] = plain[i]
		}
	}
	for i, c := range localizedColumns {
		m, err := roster.DecodeLocalized(loc[i])
		if err != nil {
			return nil, err
		}
		if m != nil {
			u.Localized[c] = m
		}
	}
	return u, nil
}

// UserGet reads one user of the organisation by external id.
func UserGet(ctx context.Context, q Querier, orgID int64, externalID string) (*User, error) {
	row := q.QueryRowxContext(ctx, q.Rebind(`SELECT `+UserColumns()+` FROM users WHERE org_id = ? AND external_id = ?`), orgID, externalID)
	u, err := ScanUser(row)
	if isNoRows(err) {
		return nil, fmt.Errorf("user %q: %w", externalID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// UserListParams filters UserList.
type UserListParams struct {
	OrgID  int64
	Status string // "", StatusActive or StatusArchived
	Query  string // matches names, e-mails and external id, ignoring case and accents (see FoldSearch)
	Limit  int    // 0: 100
	After  string // cursor: the last external_id of the previous page
}

// UserList lists an organisation's users by external id, one page at a time,
// so that an export of a large roster streams.
func UserList(ctx context.Context, q Querier, p UserListParams) ([]*User, error) {
	where := []string{"org_id = ?", "external_id > ?"}
	args := []any{p.OrgID, p.After}
	if p.Status != "" {
		where = append(where, "status = ?")
		args = append(args, p.Status)
	}
	if p.Query != "" {
		where = append(where, `search LIKE ? ESCAPE '\'`)
		args = append(args, searchPattern(p.Query))
	}
	if p.Limit <= 0 {
		p.Limit = 100
	}
	args = append(args, p.Limit)
	rows, err := q.QueryxContext(ctx, q.Rebind(`SELECT `+UserColumns()+` FROM users WHERE `+strings.Join(where, " AND ")+
		` ORDER BY external_id LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var list []*User
	for rows.Next() {
		u, err := ScanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		list = append(list, u)
	}
	return list, rows.Err()
}

// UserReportsParams selects the users who report to one manager.
type UserReportsParams struct {
	OrgID   int64
	Manager string // the manager's external_id
	Status  string // "", StatusActive or StatusArchived
	Limit   int    // how many to list (the count covers them all)
}

// UserReports counts the organisation's users whose manager is p.Manager
// and lists the first p.Limit of them by external id: archiving a manager
// leaves them with an archived manager, and the back office says so first.
// Both follow the (org_id, manager) index.
func UserReports(ctx context.Context, q Querier, p UserReportsParams) (total int, first []*User, err error) {
	where, args := "org_id = ? AND manager = ?", []any{p.OrgID, p.Manager}
	if p.Status != "" {
		where += " AND status = ?"
		args = append(args, p.Status)
	}
	if err := q.QueryRowxContext(ctx, q.Rebind(`SELECT COUNT(*) FROM users WHERE `+where), args...).Scan(&total); err != nil {
		return 0, nil, fmt.Errorf("count reports: %w", err)
	}
	if total == 0 || p.Limit <= 0 {
		return total, nil, nil
	}
	rows, err := q.QueryxContext(ctx, q.Rebind(`SELECT `+UserColumns()+` FROM users WHERE `+where+
		` ORDER BY external_id LIMIT ?`), append(args, p.Limit)...)
	if err != nil {
		return 0, nil, fmt.Errorf("list reports: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		u, err := ScanUser(rows)
		if err != nil {
			return 0, nil, fmt.Errorf("list reports: %w", err)
		}
		first = append(first, u)
	}
	return total, first, rows.Err()
}

// UsersArchiveDue archives the organisation's active users whose scheduled
// archive time (a leaver's last day, set by a full sync) has passed. The
// user's source_hash is cleared: the row that scheduled the archive no longer
// describes the user, so the next sync must look at it again.
func UsersArchiveDue(ctx context.Context, q Querier, orgID int64, now time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE users SET status = 'archived', source_hash = NULL, updated_at = ?
		WHERE org_id = ? AND status = 'active' AND archived_at IS NOT NULL AND archived_at <= ?`), now, orgID, now)
	if err != nil {
		return 0, fmt.Errorf("archive due users: %w", err)
	}
	return res.RowsAffected()
}

// UserArchive archives an active user by hand (the back office), as a
// compare-and-set from active: ErrNotFound when no active user has that id.
// A leaving day the file had set is replaced by now; the fingerprint is
// cleared, so the next sync looks at the user's row again.
func UserArchive(ctx context.Context, q Querier, orgID int64, externalID string, now time.Time) error {
	return userSetStatus(ctx, q, `UPDATE users SET status = 'archived', archived_at = ?, source_hash = NULL, updated_at = ?
		WHERE org_id = ? AND external_id = ? AND status = 'active'`, now, now, orgID, externalID)
}

// UserRestore makes an archived user active again, as a compare-and-set
// from archived: ErrNotFound when no archived user has that id.
func UserRestore(ctx context.Context, q Querier, orgID int64, externalID string, now time.Time) error {
	return userSetStatus(ctx, q, `UPDATE users SET status = 'active', archived_at = NULL, source_hash = NULL, updated_at = ?
		WHERE org_id = ? AND external_id = ? AND status = 'archived'`, now, orgID, externalID)
}

func userSetStatus(ctx context.Context, q Querier, query string, args ...any) error {
	res, err := q.ExecContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return fmt.Errorf("change user status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
