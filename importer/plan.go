package importer

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"strings"
	"time"

	"rosterd/store"
)

// Plan actions of a valid, changed row. Unchanged rows get no plan row.
const (
	actionCreate  = "create"
	actionUpdate  = "update"
	actionRestore = "restore"
	actionArchive = "archive"
)

// contactColumns are the fields of which a user must keep one, so that they
// can receive a one-time code (SPEC §2.2).
var contactColumns = []string{"business_email", "private_email", "business_mobile_phone", "private_mobile_phone"}

// planBatch is how many staged rows one page of the plan pass reads.
const planBatch = 1000

func planColumns() []string {
	cols := []string{"line", "external_id", "id_key", "action", "manager_changed"}
	cols = append(cols, store.PlainColumns...)
	cols = append(cols, store.LocalizedColumns...)
	return append(cols, "status", "archived_at", "row_hash", "source_hash")
}

// plan merges every valid staged row onto the stored user (or a new one),
// applies the rules that need the stored state, and writes each changed
// result into stage_plan.
//
// Rows that provably change nothing (every field the row sets equals the
// stored value, and the user stays active) are filtered out by the database
// in the same join, so an identical re-sync sends no row back to Go. The rest
// stream in pages: a server-side cursor on PostgreSQL (one hash join, no
// per-page lookups), keyset pages on SQLite. Memory stays flat either way.
func (r *run) plan(ctx context.Context) error {
	if err := r.planCreates(ctx); err != nil {
		return err
	}
	plan := newBatchInserter(ctx, r.tx, r.db.Dialect, "stage_plan", planColumns())
	next, closeCursor, err := r.planRows(ctx)
	if err != nil {
		return err
	}
	defer closeCursor()
	for {
		batch, err := next()
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		stored, err := r.storedUsers(ctx, batch)
		if err != nil {
			return err
		}
		var msgs []Message
		for _, sr := range batch {
			u, action, managerChanged, rowMsgs := r.merge(stored[sr.externalID], sr)
			if len(rowMsgs) > 0 {
				msgs = append(msgs, rowMsgs...)
				continue
			}
			if action == "" {
				continue
			}
			if err := plan.Add(planValues(sr, u, action, managerChanged)...); err != nil {
				return err
			}
		}
		// Flush before failing rows: on PostgreSQL a COPY must not be open
		// while other statements run.
		if err := plan.Flush(); err != nil {
			return err
		}
		if err := r.fail(ctx, msgs); err != nil {
			return err
		}
	}
	for _, q := range []string{
		`CREATE INDEX stage_plan_external_id ON stage_plan (external_id)`,
		`CREATE INDEX stage_plan_business_email ON stage_plan (business_email)`,
	} {
		if _, err := r.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("index plan: %w", err)
		}
	}
	return analyze(ctx, r.tx, r.db.Dialect, "stage_plan")
}

// planCreates plans, in one statement, the rows that create a user and were
// found creatable when they were validated (stage_patch.n_hash, see
// run.newUser): with no stored user to merge, the database builds their plan
// rows itself, and a first import of a million users never sends them
// through Go again.
func (r *run) planCreates(ctx context.Context) error {
	sel := []string{"k.line", "k.external_id", "k.id_key", "'" + actionCreate + "'",
		"CASE WHEN COALESCE(s.p_manager, '') <> '' THEN 1 ELSE 0 END"}
	for _, c := range store.PlainColumns {
		if c == "authentication_type" {
			sel = append(sel, "COALESCE(NULLIF(s.p_authentication_type, ''), '"+authUserPassword+"')")
		} else {
			sel = append(sel, "COALESCE(s.p_"+c+", '')")
		}
	}
	for _, c := range store.LocalizedColumns {
		sel = append(sel, "COALESCE(s.l_"+c+", '')")
	}
	sel = append(sel, "'"+store.StatusActive+"'", "NULL", "s.n_hash", "k.fp")
	q := `INSERT INTO stage_plan (` + strings.Join(planColumns(), ", ") + `) SELECT ` + strings.Join(sel, ", ") + `
		FROM stage_rows k JOIN stage_patch s ON s.line = k.line
		WHERE k.failed = 0 AND s.n_hash IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = ? AND u.external_id = k.external_id)`
	return r.exec(ctx, "plan new users", q, r.org.ID)
}

// maybeChanged is the SQL condition, over stage_patch s LEFT JOIN users u, of
// a row that may change its user. It is conservative: a row it lets through
// may still turn out unchanged in Go, but a row it filters out never changes.
func maybeChanged() string {
	same := []string{"u.status = 'active'", "(s.a_set = 0 OR (s.a_at IS NULL AND u.archived_at IS NULL))"}
	for _, c := range store.PlainColumns {
		same = append(same, fmt.Sprintf("(s.p_%s IS NULL OR s.p_%s = u.%s)", c, c, c))
	}
	for _, c := range store.LocalizedColumns {
		same = append(same, fmt.Sprintf("(s.l_%s IS NULL OR s.l_%s = u.%s)", c, c, c))
	}
	return "(u.id IS NULL OR NOT (" + strings.Join(same, " AND ") + "))"
}

// planRows returns a function giving the next page of rows that may change.
func (r *run) planRows(ctx context.Context) (next func() ([]stagedRow, error), closeCursor func(), err error) {
	patch := stagePatchColumns()
	patch = patch[1 : len(patch)-1] // without line and n_hash
	cols := "k.line, k.external_id, k.id_key, k.fp, s." + strings.Join(patch, ", s.") + ", u.id"
	from := ` FROM stage_rows k JOIN stage_patch s ON s.line = k.line
		LEFT JOIN users u ON u.org_id = ? AND u.external_id = k.external_id
		WHERE k.failed = 0 AND NOT (u.id IS NULL AND s.n_hash IS NOT NULL) AND ` + maybeChanged()
	if err := r.explain(ctx, "plan changed rows", r.tx.Rebind(`SELECT `+cols+from), r.org.ID); err != nil {
		return nil, nil, err
	}
	if store.DialectOf(r.tx) == store.Postgres {
		// The org id is an integer of ours, inlined: a cursor declared over
		// the simple protocol takes no bound parameters.
		_, err := r.tx.ExecContext(ctx, `DECLARE plan_rows NO SCROLL CURSOR FOR SELECT `+cols+
			strings.Replace(from, "?", fmt.Sprint(r.org.ID), 1)+` ORDER BY k.line`)
		if err != nil {
			return nil, nil, fmt.Errorf("plan: %w", err)
		}
		next = func() ([]stagedRow, error) {
			return r.readStaged(ctx, fmt.Sprintf(`FETCH FORWARD %d FROM plan_rows`, planBatch))
		}
		closeCursor = func() { _, _ = r.tx.ExecContext(ctx, `CLOSE plan_rows`) }
		return next, closeCursor, nil
	}
	after := 0
	query := r.tx.Rebind(`SELECT ` + cols + from + ` AND k.line > ? ORDER BY k.line LIMIT ?`)
	next = func() ([]stagedRow, error) {
		batch, err := r.readStaged(ctx, query, r.org.ID, after, planBatch)
		if len(batch) > 0 {
			after = batch[len(batch)-1].line
		}
		return batch, err
	}
	return next, func() {}, nil
}

// stagedRow is a valid row's patch (stage_rows joined with stage_patch).
type stagedRow struct {
	line       int
	externalID string
	idKey      string
	fp         sql.NullString // the fingerprint to record with the user
	plain      []sql.NullString
	localized  []sql.NullString
	archSet    bool
	archAt     sql.NullTime
	storedID   sql.NullInt64
}

func (r *run) readStaged(ctx context.Context, query string, args ...any) ([]stagedRow, error) {
	rows, err := r.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read staging: %w", err)
	}
	defer rows.Close()
	var batch []stagedRow
	for rows.Next() {
		sr := stagedRow{plain: make([]sql.NullString, len(store.PlainColumns)),
			localized: make([]sql.NullString, len(store.LocalizedColumns))}
		var archSet int
		dest := []any{&sr.line, &sr.externalID, &sr.idKey, &sr.fp}
		for i := range sr.plain {
			dest = append(dest, &sr.plain[i])
		}
		for i := range sr.localized {
			dest = append(dest, &sr.localized[i])
		}
		dest = append(dest, &archSet, &sr.archAt, &sr.storedID)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read staging: %w", err)
		}
		sr.archSet = archSet == 1
		batch = append(batch, sr)
	}
	return batch, rows.Err()
}

// storedUsers loads the stored users of a page of rows that have one.
func (r *run) storedUsers(ctx context.Context, batch []stagedRow) (map[string]*store.User, error) {
	args := make([]any, 0, len(batch)+1)
	args = append(args, r.org.ID)
	for _, sr := range batch {
		if sr.storedID.Valid {
			args = append(args, sr.storedID.Int64)
		}
	}
	if len(args) == 1 {
		return nil, nil
	}
	q := `SELECT ` + store.UserColumns + ` FROM users WHERE org_id = ? AND id IN (` +
		strings.TrimSuffix(strings.Repeat("?,", len(args)-1), ",") + `)`
	rows, err := r.tx.QueryContext(ctx, r.tx.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read stored users: %w", err)
	}
	defer rows.Close()
	m := make(map[string]*store.User, len(args))
	for rows.Next() {
		u, err := store.ScanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("read stored users: %w", err)
		}
		m[u.ExternalID] = u
	}
	return m, rows.Err()
}

// merge applies one staged row to the stored user (nil: a new user). It
// returns the resulting user and its action ("" when nothing changes), or the
// messages that make the row fail.
func (r *run) merge(stored *store.User, sr stagedRow) (u *store.User, action string, managerChanged bool, msgs []Message) {
	u = &store.User{ExternalID: sr.externalID, Status: store.StatusActive,
		Plain: map[string]string{}, Localized: map[string]map[string]string{}}
	if stored != nil {
		u.ID, u.Status, u.ArchivedAt = stored.ID, stored.Status, stored.ArchivedAt
		maps.Copy(u.Plain, stored.Plain)
		for k, v := range stored.Localized {
			u.Localized[k] = maps.Clone(v)
		}
	}
	for i, c := range store.PlainColumns {
		if !sr.plain[i].Valid {
			continue
		}
		if v := sr.plain[i].String; v != "" {
			u.Plain[c] = v
		} else {
			delete(u.Plain, c)
		}
	}
	for i, c := range store.LocalizedColumns {
		if !sr.localized[i].Valid {
			continue
		}
		set, err := store.DecodeLocalized(sr.localized[i].String)
		if err != nil {
			return nil, "", false, []Message{{Line: sr.line, Text: err.Error()}}
		}
		setLocalized(u, c, set)
	}
	var at *time.Time
	if sr.archAt.Valid {
		t := sr.archAt.Time.UTC()
		at = &t
	}
	action, managerChanged, msgs = r.settle(stored, u, sr.line, sr.archSet, at)
	if len(msgs) > 0 {
		return nil, "", false, msgs
	}
	return u, action, managerChanged, nil
}

// setLocalized applies the languages a row sets for one localised field: a
// value sets that language, a blank clears it.
func setLocalized(u *store.User, field string, set map[string]string) {
	m := u.Localized[field]
	if m == nil {
		m = map[string]string{}
	}
	for lang, v := range set {
		if v != "" {
			m[lang] = v
		} else {
			delete(m, lang)
		}
	}
	if len(m) == 0 {
		delete(u.Localized, field)
	} else {
		u.Localized[field] = m
	}
}

// newUser is the user a valid row creates when its id is not stored, for
// the set-wise create of the plan (see planCreates): the row hash such a user
// gets, or "" when the row cannot be created that way — creating it would
// fail a rule, or it needs what only merge does (a blank language to drop,
// an archive date).
func (r *run) newUser(p Patch) string {
	if p.ArchivedAtSet && p.ArchivedAt != nil {
		return ""
	}
	u := &store.User{ExternalID: p.ExternalID, Status: store.StatusActive,
		Plain: make(map[string]string, len(p.Plain)), Localized: make(map[string]map[string]string, len(p.Localized))}
	for c, v := range p.Plain {
		if v != "" {
			u.Plain[c] = v
		}
	}
	for c, set := range p.Localized {
		if len(set) == 0 {
			return ""
		}
		for _, v := range set {
			if v == "" {
				return ""
			}
		}
		u.Localized[c] = set
	}
	if _, _, msgs := r.settle(nil, u, p.Line, p.ArchivedAtSet, nil); len(msgs) > 0 || u.Status != store.StatusActive {
		return ""
	}
	return u.RowHash
}

// settle completes a merged user: the status rules of a full roster, the
// rules on the user as a whole (create-required fields, a contact, the
// company account), its row hash and the action it takes.
func (r *run) settle(stored, u *store.User, line int, archSet bool, archAt *time.Time) (action string, managerChanged bool, msgs []Message) {
	if u.Plain["authentication_type"] == "" {
		u.Plain["authentication_type"] = "username_password"
	}

	// Status: a full roster restores the archived users it lists, and its
	// archived_at column archives or schedules (SPEC §3).
	if r.mode == ModeFull {
		switch {
		case archSet && archAt != nil:
			at := *archAt
			u.ArchivedAt = &at
			if !at.After(r.p.Now) {
				u.Status = store.StatusArchived
			} else {
				u.Status = store.StatusActive
			}
		case archSet || u.Status == store.StatusArchived:
			u.Status, u.ArchivedAt = store.StatusActive, nil
		}
		if stored != nil && stored.Status == store.StatusArchived && u.Status == store.StatusArchived &&
			sameTime(stored.ArchivedAt, u.ArchivedAt) {
			// Already archived as the file says: nothing to restore.
			u.ArchivedAt = stored.ArchivedAt
		}
	}

	if stored == nil {
		for _, c := range createRequired {
			if u.Plain[c] == "" {
				msgs = append(msgs, r.missingForCreate(line, u.ExternalID, c))
			}
		}
	}
	if !hasContact(u) {
		var names []string
		for _, c := range contactColumns {
			names = append(names, r.colName(c))
		}
		msgs = append(msgs, Message{Line: line, Text: fmt.Sprintf(
			"user %s would have no contact left; give at least one of %s, so that they can receive a one-time code",
			quote(u.ExternalID), strings.Join(names, ", "))})
	}
	if u.Plain["authentication_type"] == "company_account" && u.Plain["authentication_id"] == "" {
		msgs = append(msgs, Message{Line: line, Column: r.colName("authentication_id"),
			Text: "is required when authentication_type is company_account; give the user's company account (an e-mail-shaped UPN)"})
	}
	if len(msgs) > 0 {
		return "", false, msgs
	}

	u.RowHash = u.Hash()
	if stored == nil {
		return actionCreate, u.Plain["manager"] != "", nil
	}
	managerChanged = u.Plain["manager"] != stored.Plain["manager"] && u.Plain["manager"] != ""
	switch {
	case stored.Status == store.StatusArchived && u.Status == store.StatusActive:
		return actionRestore, managerChanged, nil
	case stored.Status == store.StatusActive && u.Status == store.StatusArchived:
		return actionArchive, managerChanged, nil
	case u.RowHash != stored.RowHash || !sameTime(u.ArchivedAt, stored.ArchivedAt):
		return actionUpdate, managerChanged, nil
	}
	return "", false, nil
}

func (r *run) missingForCreate(line int, externalID, c string) Message {
	what := strings.ReplaceAll(c, "_", " ")
	if name := r.cols.Name(c); name != "" {
		return Message{Line: line, Column: name,
			Text: fmt.Sprintf("is blank, and user %s is new: a new user needs a %s", quote(externalID), what)}
	}
	return Message{Line: line, Column: c,
		Text: fmt.Sprintf("the file has no %s column, and user %s is new: a new user needs a %s", c, quote(externalID), what)}
}

// colName is the column as the file wrote it, or its canonical name when the
// file does not have it.
func (r *run) colName(canonical string) string {
	if n := r.cols.Name(canonical); n != "" {
		return n
	}
	return canonical
}

func hasContact(u *store.User) bool {
	for _, c := range contactColumns {
		if u.Plain[c] != "" {
			return true
		}
	}
	return false
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func planValues(sr stagedRow, u *store.User, action string, managerChanged bool) []any {
	vals := make([]any, 0, 8+len(store.PlainColumns)+len(store.LocalizedColumns))
	vals = append(vals, sr.line, u.ExternalID, sr.idKey, action, boolInt(managerChanged))
	for _, c := range store.PlainColumns {
		vals = append(vals, u.Plain[c])
	}
	for _, c := range store.LocalizedColumns {
		vals = append(vals, store.EncodeLocalized(u.Localized[c]))
	}
	var at any
	if u.ArchivedAt != nil {
		at = u.ArchivedAt.UTC()
	}
	return append(vals, u.Status, at, u.RowHash, sr.fp)
}
