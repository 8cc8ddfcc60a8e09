package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Change kinds (SPEC §4.4), in the order the import page shows them.
const (
	ChangeFailed   = "failed"
	ChangeCreated  = "created"
	ChangeUpdated  = "updated"
	ChangeArchived = "archived"
	ChangeRestored = "restored"
)

// ChangeCreations is the kind of an import's creations mark (migration
// 00019): the one row that stands for every user an applied import created.
// Each such user's row says so (users.created_import_seq, created_line); the
// mark gives their entries an id (their place in the journal's order), an
// actor and a time, and its line is the last users.id given before the
// import created anybody, where a list of its creations starts. A million
// created entries written as rows with their index entries were most of
// what the journal added to a first import. It is never listed as itself.
const ChangeCreations = "creations"

// ChangeKinds are the kinds of journal entries, in the order an import's
// changes are listed: what went wrong first, then what was done.
var ChangeKinds = []string{ChangeFailed, ChangeCreated, ChangeUpdated, ChangeArchived, ChangeRestored}

// IsChangeKind reports whether k is one of ChangeKinds.
func IsChangeKind(k string) bool {
	for _, c := range ChangeKinds {
		if c == k {
			return true
		}
	}
	return false
}

// FieldChange is one field an update changed, as the file's columns name it
// (department_en, archived_at) and as the roster export writes its values.
type FieldChange struct {
	Column string `json:"column"`
	Old    string `json:"old"`
	New    string `json:"new"`
}

// Change is one entry of the journal: what one import (or one admin's
// manual action) did to one user, or why it failed to.
type Change struct {
	ID int64 `db:"id"` // the entry's place in the journal's order
	// Pos is the entry's place in its import's list of its kind, what a
	// cursor holds: its ID, but for an applied import's created entry,
	// which is its user's row (ChangeCreations), the user's id.
	Pos        int64  `db:"pos"`
	OrgID      int64  `db:"org_id"`
	ImportID   string `db:"import_id"` // "" for a manual action
	Kind       string `db:"kind"`
	ExternalID string `db:"external_id"`
	FirstName  string `db:"first_name"`
	LastName   string `db:"last_name"`
	// Line is the file's line, 0 for a manual action, a user missing from
	// a full roster, and a revert.
	Line         int64     `db:"line"`
	FieldsJSON   string    `db:"fields"`
	MessagesJSON string    `db:"messages"`
	WarningsJSON string    `db:"warnings"`
	Preview      bool      `db:"preview"`
	Actor        string    `db:"actor"`
	At           time.Time `db:"at"`
}

// Fields decodes the fields an update changed.
func (c *Change) Fields() []FieldChange {
	var f []FieldChange
	if c.FieldsJSON != "" {
		_ = json.Unmarshal([]byte(c.FieldsJSON), &f)
	}
	return f
}

// Messages decodes a failed entry's messages.
func (c *Change) Messages() []string { return decodeStrings(c.MessagesJSON) }

// Warnings decodes the entry's warnings.
func (c *Change) Warnings() []string { return decodeStrings(c.WarningsJSON) }

func decodeStrings(s string) []string {
	var m []string
	if s != "" {
		_ = json.Unmarshal([]byte(s), &m)
	}
	return m
}

// EncodeFields is the stored form of a field list ("" for none).
func EncodeFields(f []FieldChange) string {
	if len(f) == 0 {
		return ""
	}
	b, _ := json.Marshal(f)
	return string(b)
}

// EncodeStrings is the stored form of a message or warning list ("" for none).
func EncodeStrings(s []string) string {
	if len(s) == 0 {
		return ""
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// importSeqOf is an import's seq, by its id: the journal links its entries
// to their import by seq (migration 00016), an integer key far cheaper to
// write a million times than the text id.
const importSeqOf = `(SELECT seq FROM imports WHERE id = ?)`

const changeColumns = `id, id AS pos, org_id,
	COALESCE((SELECT i.id FROM imports i WHERE i.seq = changes.import_seq), '') AS import_id, kind, external_id, first_name, last_name,
	COALESCE(line, 0) AS line, COALESCE(fields, '') AS fields, COALESCE(messages, '') AS messages,
	COALESCE(warnings, '') AS warnings, preview, actor, at`

// ChangeAdd records one entry written one at a time: an admin's manual
// archive or restore, in the transaction that makes it.
func ChangeAdd(ctx context.Context, q Querier, c *Change) error {
	var imp, line, fields, msgs, warns any
	if c.ImportID != "" {
		imp = c.ImportID
	}
	impSeq := `?`
	if imp != nil {
		impSeq = importSeqOf
	}
	if c.Line > 0 {
		line = c.Line
	}
	if c.FieldsJSON != "" {
		fields = c.FieldsJSON
	}
	if c.MessagesJSON != "" {
		msgs = c.MessagesJSON
	}
	if c.WarningsJSON != "" {
		warns = c.WarningsJSON
	}
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO changes (org_id, import_seq, kind, external_id, first_name, last_name,
		line, fields, messages, warnings, preview, actor, at) VALUES (?, `+impSeq+`, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		c.OrgID, imp, c.Kind, c.ExternalID, c.FirstName, c.LastName, line, fields, msgs, warns, c.Preview, c.Actor, c.At.UTC())
	if err != nil {
		return fmt.Errorf("record change: %w", err)
	}
	return nil
}

// ChangesForget deletes an import's entries: the preview of a held sync
// that is run again, whose new entries replace them.
func ChangesForget(ctx context.Context, q Querier, importID string) error {
	if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM changes WHERE import_seq = `+importSeqOf), importID); err != nil {
		return fmt.Errorf("forget the import's earlier changes: %w", err)
	}
	return nil
}

// ChangeListParams selects a page of an import's changes.
type ChangeListParams struct {
	OrgID    int64
	ImportID string
	Kind     string // "" for every kind, in ChangeKinds order
	// Q keeps the entries whose external id, first or last name contains
	// it (case-insensitively); "" keeps all.
	Q     string
	After ChangeCursor // the last entry of the previous page; zero for the first
	Limit int
}

// ChangeCursor is where a page of changes ends: its last entry's kind and Pos.
type ChangeCursor struct {
	Kind string
	ID   int64
}

// ChangeList reads a page of an import's changes, a kind at a time, each
// kind in the order it was written (file order). Every page is one index
// range per kind, so the first page of a million-entry import answers as
// fast as that of ten.
func ChangeList(ctx context.Context, q Querier, p ChangeListParams) ([]Change, error) {
	kinds := ChangeKinds
	if p.Kind != "" {
		kinds = []string{p.Kind}
	}
	start := 0
	if p.After.Kind != "" {
		for i, k := range kinds {
			if k == p.After.Kind {
				start = i
			}
		}
	}
	var out []Change
	for i := start; i < len(kinds) && len(out) < p.Limit; i++ {
		var after int64
		if i == start && p.After.Kind == kinds[i] {
			after = p.After.ID
		}
		where := `import_seq = ` + importSeqOf + ` AND org_id = ? AND kind = ? AND id > ?`
		args := []any{p.ImportID, p.OrgID, kinds[i], after}
		cond, cargs := searchCond(p.Q)
		where += cond
		args = append(append(args, cargs...), p.Limit-len(out))
		var page []Change
		if err := sqlxSelect(ctx, q, &page, `SELECT `+changeColumns+` FROM changes WHERE `+where+` ORDER BY id LIMIT ?`, args...); err != nil {
			return nil, fmt.Errorf("list changes: %w", err)
		}
		out = append(out, page...)
		if kinds[i] == ChangeCreated && len(out) < p.Limit {
			// An applied import's creations are its users' rows: none
			// of them is a row of changes (see ChangeCreations), and a
			// preview's are rows with no mark, so an import's created
			// entries come from one place and after is that place's.
			created, err := createdList(ctx, q, p, after, p.Limit-len(out))
			if err != nil {
				return nil, err
			}
			out = append(out, created...)
		}
	}
	return out, nil
}

// searchCond is the condition keeping the entries (or users) whose external
// id, first or last name contains q, case ignored; "" for q "".
func searchCond(q string) (string, []any) {
	if q == "" {
		return "", nil
	}
	like := "%" + likeEscape(strings.ToLower(q)) + "%"
	return ` AND (LOWER(external_id) LIKE ? ESCAPE '\' OR LOWER(first_name || ' ' || last_name) LIKE ? ESCAPE '\'
		OR LOWER(last_name || ' ' || first_name) LIKE ? ESCAPE '\')`, []any{like, like, like}
}

// creations is an import's creations mark (ChangeCreations).
type creations struct {
	ID        int64     `db:"id"`
	ImportSeq int64     `db:"import_seq"`
	Bound     int64     `db:"line"` // the last users.id given before the import created anybody
	Actor     string    `db:"actor"`
	At        time.Time `db:"at"`
}

// creationsOf reads an import's creations mark; nil when it has none (it
// created nobody, was not applied, or its journal expired).
func creationsOf(ctx context.Context, q Querier, orgID int64, importID string) (*creations, error) {
	var m []creations
	if err := sqlxSelect(ctx, q, &m, `SELECT id, import_seq, COALESCE(line, 0) AS line, actor, at FROM changes
		WHERE import_seq = `+importSeqOf+` AND org_id = ? AND kind = ?`, importID, orgID, ChangeCreations); err != nil {
		return nil, fmt.Errorf("read the import's creations: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return &m[0], nil
}

// createdOf is the condition on users of the ones an import created, from
// its mark's bound on: a range of users' primary key, read in its order.
// SQLite is told not to look for them through (org_id, external_id), which
// it would read whole and sort.
func createdOf(q Querier) string {
	if DialectOf(q) == SQLite {
		return `id > ? AND +org_id = ? AND +created_import_seq = ?`
	}
	return `id > ? AND org_id = ? AND created_import_seq = ?`
}

// createdList reads a page of an applied import's created entries from the
// users it created, in the order it created them, after the user id after.
func createdList(ctx context.Context, q Querier, p ChangeListParams, after int64, limit int) ([]Change, error) {
	m, err := creationsOf(ctx, q, p.OrgID, p.ImportID)
	if err != nil || m == nil {
		return nil, err
	}
	cond, cargs := searchCond(p.Q)
	args := append(append([]any{max(after, m.Bound), p.OrgID, m.ImportSeq}, cargs...), limit)
	var page []Change
	if err := sqlxSelect(ctx, q, &page, `SELECT id AS pos, external_id, first_name, last_name, COALESCE(created_line, 0) AS line
		FROM users WHERE `+createdOf(q)+cond+` ORDER BY id LIMIT ?`, args...); err != nil {
		return nil, fmt.Errorf("list created users: %w", err)
	}
	for i := range page {
		c := &page[i]
		c.ID, c.OrgID, c.ImportID, c.Kind, c.Actor, c.At = m.ID, p.OrgID, p.ImportID, ChangeCreated, m.Actor, m.At
	}
	return page, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ChangeCounts counts an import's entries per kind that match search ("" for
// all) in one pass over the import's entries: a search is a LIKE no index
// serves, and a count per kind read a million-entry journal five times.
// Kinds without an entry are absent (0).
func ChangeCounts(ctx context.Context, q Querier, orgID int64, importID, search string) (map[string]int, error) {
	cond, cargs := searchCond(search)
	where := `import_seq = ` + importSeqOf + ` AND org_id = ?` + cond
	args := append([]any{importID, orgID}, cargs...)
	var rows []struct {
		Kind string `db:"kind"`
		N    int    `db:"n"`
	}
	if err := sqlxSelect(ctx, q, &rows, `SELECT kind, COUNT(*) AS n FROM changes WHERE `+where+` GROUP BY kind`, args...); err != nil {
		return nil, fmt.Errorf("count changes: %w", err)
	}
	counts := make(map[string]int, len(rows))
	for _, r := range rows {
		counts[r.Kind] = r.N
	}
	delete(counts, ChangeCreations)
	// The search would not find the mark itself: it is looked up alone.
	m, err := creationsOf(ctx, q, orgID, importID)
	if err != nil {
		return nil, err
	}
	if m != nil {
		var n int
		if err := sqlx.GetContext(ctx, q, &n, q.Rebind(`SELECT COUNT(*) FROM users WHERE `+createdOf(q)+cond),
			append([]any{m.Bound, orgID, m.ImportSeq}, cargs...)...); err != nil {
			return nil, fmt.Errorf("count created users: %w", err)
		}
		if n > 0 {
			counts[ChangeCreated] += n
		}
	}
	return counts, nil
}

// UserHistoryParams selects a page of one user's history.
type UserHistoryParams struct {
	OrgID      int64
	ExternalID string
	Before     int64 // the id of the last entry of the previous page; 0 for the first
	Limit      int
}

// UserHistory reads a user's applied entries (previews are not history),
// newest first.
func UserHistory(ctx context.Context, q Querier, p UserHistoryParams) ([]Change, error) {
	// The partial index changes_user is WHERE NOT preview: the condition
	// is written as its literal, so the planner can use it.
	where := `org_id = ? AND external_id = ? AND ` + notPreview(q)
	args := []any{p.OrgID, p.ExternalID}
	if p.Before > 0 {
		where += ` AND id < ?`
		args = append(args, p.Before)
	}
	args = append(args, p.Limit)
	var list []Change
	if err := sqlxSelect(ctx, q, &list, `SELECT `+changeColumns+` FROM changes WHERE `+where+` ORDER BY id DESC LIMIT ?`, args...); err != nil {
		return nil, fmt.Errorf("user history: %w", err)
	}
	// The user's created entry is its own row and its import's mark (see
	// ChangeCreations), in its place by the mark's id.
	where = `u.org_id = ? AND u.external_id = ?`
	args = []any{p.OrgID, p.ExternalID}
	if p.Before > 0 {
		where += ` AND m.id < ?`
		args = append(args, p.Before)
	}
	var created []Change
	if err := sqlxSelect(ctx, q, &created, `SELECT m.id, u.id AS pos, u.org_id,
		COALESCE((SELECT i.id FROM imports i WHERE i.seq = m.import_seq), '') AS import_id, '`+ChangeCreated+`' AS kind,
		u.external_id, u.first_name, u.last_name, COALESCE(u.created_line, 0) AS line, '' AS fields, '' AS messages,
		'' AS warnings, m.preview, m.actor, m.at
		FROM users u JOIN changes m ON m.import_seq = u.created_import_seq AND m.kind = '`+ChangeCreations+`' AND m.org_id = u.org_id
		WHERE `+where, args...); err != nil {
		return nil, fmt.Errorf("user history: %w", err)
	}
	if len(created) > 0 {
		list = append(list, created...)
		slices.SortFunc(list, func(a, b Change) int { return cmp.Compare(b.ID, a.ID) })
		list = list[:min(len(list), p.Limit)]
	}
	return list, nil
}

// ChangesLater reads the applied entries of the given users written after
// the entry id after, oldest first: what a revert must not overwrite.
func ChangesLater(ctx context.Context, q Querier, orgID int64, after int64, externalIDs []string) ([]Change, error) {
	if len(externalIDs) == 0 {
		return nil, nil
	}
	args := []any{orgID, after}
	for _, id := range externalIDs {
		args = append(args, id)
	}
	var list []Change
	err := sqlxSelect(ctx, q, &list, `SELECT `+changeColumns+` FROM changes WHERE org_id = ? AND `+notPreview(q)+` AND id > ?
		AND kind <> 'failed' AND external_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(externalIDs)), ",")+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read later changes: %w", err)
	}
	return list, nil
}

// ChangesSweep enforces journal_retention (SPEC §4.4): it deletes the
// journal of every import that finished before `before` (its applied
// entries and its preview alike) and marks the import journal_expired_at,
// so that it is not looked at again and cannot be reverted; and it deletes
// the manual entries (archive, restore by an admin) made before `before`.
// Held, queued and processing imports keep theirs: a held sync's preview
// is what its approver reads. Each import is marked and emptied in one
// transaction of its own (a compare-and-set on journal_expired_at, so two
// daemons sweeping at once do it once), with one DELETE through the index
// changes_import; the manual entries go in one DELETE through
// changes_manual. It returns how many entries it deleted.
func ChangesSweep(ctx context.Context, db *DB, before time.Time) (int64, error) {
	before = before.UTC()
	var ids []string
	if err := sqlxSelect(ctx, db, &ids, `SELECT id FROM imports WHERE journal_expired_at IS NULL AND finished_at < ? AND `+expirable+`
		ORDER BY finished_at, id`, before); err != nil {
		return 0, fmt.Errorf("find expired journals: %w", err)
	}
	var total int64
	for _, id := range ids {
		var n int64
		err := db.InTx(ctx, func(tx *sqlx.Tx) error {
			n = 0
			r, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE imports SET journal_expired_at = ?
				WHERE id = ? AND journal_expired_at IS NULL AND finished_at < ? AND `+expirable), time.Now().UTC(), id, before)
			if err != nil {
				return err
			}
			if k, _ := r.RowsAffected(); k == 0 {
				return nil // another sweep, or an approval, got there first
			}
			if DialectOf(tx) == Postgres {
				// A large import is a good part of the table, and the
				// planner then prefers a sequential scan, whose cost
				// grows with all 400 days of journals rather than
				// with this import's entries (measured: a 1M-entry
				// import among 7M, 3.3 s through changes_import, 5.5 s
				// scanning). Only this transaction is affected.
				if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
					return err
				}
			}
			r, err = tx.ExecContext(ctx, tx.Rebind(`DELETE FROM changes WHERE import_seq = `+importSeqOf), id)
			if err != nil {
				return err
			}
			n, _ = r.RowsAffected()
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("sweep the journal of import %s: %w", id, err)
		}
		total += n
	}
	var n int64
	err := db.InTx(ctx, func(tx *sqlx.Tx) error {
		r, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM changes WHERE import_seq IS NULL AND at < ?`), before)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		return nil
	})
	if err != nil {
		return total, fmt.Errorf("sweep the manual journal entries: %w", err)
	}
	return total + n, nil
}

// notPreview is the condition of an applied entry, as the partial index
// changes_user states it on each database.
func notPreview(q Querier) string {
	if DialectOf(q) == SQLite {
		return "preview = 0"
	}
	return "NOT preview"
}
