package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PlainColumns are the user fields held as one text value each, in the order
// of SPEC §2.2. The database columns, the CSV header names and the JSON keys
// all use these names, so one list drives storage, export and merge.
var PlainColumns = []string{
	"first_name", "last_name", "country", "preferred_language",
	"authentication_type", "authentication_id",
	"business_email", "private_email",
	"business_mobile_phone", "private_mobile_phone",
	"manager", "default_site",
}

// LocalizedColumns are the fields held once per language (`department_en`,
// `department_nl`, …), stored as a JSON object keyed by language, in SPEC
// order. Tags are last: their values are `id:value` lists.
var LocalizedColumns = []string{
	"department", "division", "subdivision", "job_title",
	"contract_type", "region", "zone", "domain", "tags",
}

// User statuses.
const (
	StatusActive   = "active"
	StatusArchived = "archived"
)

// User is one employee of one organisation as stored.
type User struct {
	ID         int64
	OrgID      int64
	ExternalID string
	// Plain holds every PlainColumns field that has a value; a missing key is
	// an empty field.
	Plain map[string]string
	// Localized holds field → language → value for LocalizedColumns.
	Localized map[string]map[string]string
	Status    string
	// ArchivedAt is when the user was archived, or, on an active user, when a
	// full sync scheduled them to leave.
	ArchivedAt *time.Time
	RowHash    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Hash fingerprints the user's data fields (not status or dates), so the
// importer can tell an unchanged row without comparing every column.
func (u *User) Hash() string {
	h := sha256.New()
	for _, c := range PlainColumns {
		h.Write([]byte(u.Plain[c]))
		h.Write([]byte{0})
	}
	for _, c := range LocalizedColumns {
		h.Write([]byte(EncodeLocalized(u.Localized[c])))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// EncodeLocalized is the stored form of one localised field: a JSON object
// keyed by language with sorted keys, or "" when it has no value. It is
// written by hand because it runs for every field of every imported row, and
// its output must be byte-for-byte stable: the importer compares it in SQL.
func EncodeLocalized(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	var one [1]string
	keys := one[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 16*len(m))
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	b = append(b, '}')
	return string(b)
}

// appendJSONString quotes s as a JSON string, escaping only what JSON requires.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// DecodeLocalized reverses EncodeLocalized.
func DecodeLocalized(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decode localised field: %w", err)
	}
	return m, nil
}

// UserColumns is the SELECT list ScanUser expects.
var UserColumns = "id, org_id, external_id, " + strings.Join(PlainColumns, ", ") + ", " +
	strings.Join(LocalizedColumns, ", ") + ", status, archived_at, row_hash, created_at, updated_at"

// ScanUser reads one row selected with UserColumns.
func ScanUser(sc interface{ Scan(...any) error }) (*User, error) {
	u := &User{Plain: map[string]string{}, Localized: map[string]map[string]string{}}
	plain := make([]string, len(PlainColumns))
	loc := make([]string, len(LocalizedColumns))
	dest := []any{&u.ID, &u.OrgID, &u.ExternalID}
	for i := range plain {
		dest = append(dest, &plain[i])
	}
	for i := range loc {
		dest = append(dest, &loc[i])
	}
	dest = append(dest, &u.Status, &u.ArchivedAt, &u.RowHash, &u.CreatedAt, &u.UpdatedAt)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	for i, c := range PlainColumns {
		if plain[i] != "" {
			u.Plain[c] = plain[i]
		}
	}
	for i, c := range LocalizedColumns {
		m, err := DecodeLocalized(loc[i])
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
	row := q.QueryRowxContext(ctx, q.Rebind(`SELECT `+UserColumns+` FROM users WHERE org_id = ? AND external_id = ?`), orgID, externalID)
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
	rows, err := q.QueryxContext(ctx, q.Rebind(`SELECT `+UserColumns+` FROM users WHERE `+strings.Join(where, " AND ")+
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
