package importer

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"strings"
	"time"

	"rosterd/roster"
	"rosterd/store"
)

// plainColumns and localizedColumns are roster's column catalogue, copied
// once: the plan and the staging loop over them for every row. Read only.
var (
	plainColumns     = roster.PlainColumns()
	localizedColumns = roster.LocalizedColumns()
)

// planBatch is how many staged rows one page of the plan pass reads.
const planBatch = 1000

// planWidth is how many values a stage_plan row has.
var planWidth = len(planColumns())

func planColumns() []string {
	cols := []string{"line", "external_id", "id_key", "action", "manager_changed"}
	cols = append(cols, plainColumns...)
	cols = append(cols, localizedColumns...)
	return append(cols, "status", "archived_at", "row_hash", "source_hash", "search", "changes")
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
	if err := r.judgeFailed(ctx); err != nil {
		return err
	}
	var stored bool
	if err := r.tx.GetContext(ctx, &stored, r.tx.Rebind(`SELECT EXISTS (SELECT 1 FROM users WHERE org_id = ?)`), r.org.ID); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	r.noStoredUsers = !stored
	if stored && r.createdDirect > 0 {
		// On SQLite the file is staged before the import's transaction
		// begins: users were added meanwhile, and the rows staged as
		// creates may name them. Staged again, the run plans them anew.
		r.p.Logger.Info("users were added while the first import of the organisation was read; it runs again")
		return ErrImportBusy
	}
	if r.toCreate > 0 {
		if err := r.planCreates(ctx); err != nil {
			return err
		}
	}
	if r.toMerge > 0 || stored {
		if err := r.planMerges(ctx); err != nil {
			return err
		}
	}
	defer r.step("index plan", time.Now())
	return r.indexPlan(ctx)
}

// indexPlan indexes the plan for the checks that probe it.
func (r *run) indexPlan(ctx context.Context) error {
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

// planMerges plans, through Go, the rows that may change a stored user or
// need the merge rules to create one. (In an organisation without users
// whose every row is a new user's whole record, there are none: plan does
// not call it.)
func (r *run) planMerges(ctx context.Context) error {
	defer r.step("plan merges", time.Now())
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
			was := stored[sr.externalID]
			u, action, managerChanged, rowMsgs := r.merge(was, sr)
			if len(rowMsgs) > 0 {
				msgs = append(msgs, rowMsgs...)
				continue
			}
			if action == "" {
				continue
			}
			var changed string
			if was != nil && journalOn {
				changed = store.EncodeFields(FieldChanges(&was.User, u, r.loc))
			}
			if err := plan.Add(planValues(sr, u, action, managerChanged, changed)...); err != nil {
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
	return nil
}

// planCreates plans, in one statement, the rows that create a user and were
// found creatable when they were validated (stage_patch.n_hash, see
// run.newUser): with no stored user to merge, the database builds their plan
// rows itself, and a first import of a million users never sends them
// through Go again. (Every patch is of a row that was not skipped: saying so
// lets the planner start from those rows, not from the whole file.)
func (r *run) planCreates(ctx context.Context) error {
	sel := []string{"k.line", "k.external_id", "k.id_key", "'" + roster.ActionCreate + "'",
		"CASE WHEN COALESCE(s.p_manager, '') <> '' THEN 1 ELSE 0 END"}
	for _, c := range plainColumns {
		if c == "authentication_type" {
			sel = append(sel, "COALESCE(NULLIF(s.p_authentication_type, ''), '"+roster.DefaultAuthenticationType+"')")
		} else {
			sel = append(sel, "COALESCE(s.p_"+c+", '')")
		}
	}
	for _, c := range localizedColumns {
		sel = append(sel, "COALESCE(s.l_"+c+", '')")
	}
	sel = append(sel, "'"+roster.StatusActive+"'", "NULL", "s.n_hash", "k.fp", "s.n_search", "NULL")
	q := `INSERT INTO stage_plan (` + strings.Join(planColumns(), ", ") + `) SELECT ` + strings.Join(sel, ", ") + `
		FROM stage_rows k JOIN stage_patch s ON s.line = k.line
		WHERE k.skip = 0 AND k.failed = 0 AND s.n_hash IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = ? AND u.external_id = k.external_id)`
	return r.exec(ctx, "plan new users", q, r.org.ID)
}

// maybeChanged is the SQL condition, over stage_patch s LEFT JOIN users u, of
// a row that may change its user. It is conservative: a row it lets through
// may still turn out unchanged in Go, but a row it filters out never changes.
func maybeChanged() string {
	same := []string{"u.status = 'active'", "(s.a_set = 0 OR (s.a_at IS NULL AND u.archived_at IS NULL))"}
	for _, c := range plainColumns {
		same = append(same, fmt.Sprintf("(s.p_%s IS NULL OR s.p_%s = u.%s)", c, c, c))
	}
	for _, c := range localizedColumns {
		same = append(same, fmt.Sprintf("(s.l_%s IS NULL OR s.l_%s = u.%s)", c, c, c))
	}
	return "(u.id IS NULL OR NOT (" + strings.Join(same, " AND ") + "))"
}

// planRows returns a function giving the next page of rows that may change.
func (r *run) planRows(ctx context.Context) (next func() ([]stagedRow, error), closeCursor func(), err error) {
	cols := "k.line, k.external_id, k.id_key, k.fp, s." + strings.Join(stagePatchData(), ", s.") + ", u.id, s.bad"
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
	// Paged by the patch's line (the same as the row's): SQLite then walks
	// the few patches, not the whole file from each page's start.
	query := r.tx.Rebind(`SELECT ` + cols + from + ` AND s.line > ? ORDER BY s.line LIMIT ?`)
	next = func() ([]stagedRow, error) {
		batch, err := r.readStaged(ctx, query, r.org.ID, after, planBatch)
		if len(batch) > 0 {
			after = batch[len(batch)-1].line
		}
		return batch, err
	}
	return next, func() {}, nil
}

// judgeFailed runs the rules on the user as a whole (see settle) for the
// rows that already failed, on their own or in the id checks, so that a row
// reports all its problems in one errors CSV: a new user with the country
// "Belgium" and no contact hears of both, not of the contact only once the
// country is fixed. Those rows stay failed and plan nothing. They are few in
// a real file, and an import where none failed skips this.
func (r *run) judgeFailed(ctx context.Context) error {
	if !r.anyFailed {
		return nil
	}
	query := r.tx.Rebind(`SELECT k.line, k.external_id, k.id_key, k.fp, s.` + strings.Join(stagePatchData(), ", s.") + `, u.id, s.bad
		FROM stage_rows k JOIN stage_patch s ON s.line = k.line
		LEFT JOIN users u ON u.org_id = ? AND u.external_id = k.external_id
		WHERE k.failed = 1 AND k.line > ? ORDER BY k.line LIMIT ?`)
	for after := 0; ; {
		batch, err := r.readStaged(ctx, query, r.org.ID, after, planBatch)
		if err != nil || len(batch) == 0 {
			return err
		}
		after = batch[len(batch)-1].line
		stored, err := r.storedUsers(ctx, batch)
		if err != nil {
			return err
		}
		var msgs []Message
		for _, sr := range batch {
			_, _, _, rowMsgs := r.merge(stored[sr.externalID], sr)
			msgs = append(msgs, rowMsgs...)
		}
		if err := r.fail(ctx, msgs); err != nil {
			return err
		}
	}
}

// stagedRow is a row's patch (stage_rows joined with stage_patch).
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
	bad        sql.NullString // the columns that failed their own rules, comma-separated
}

func (r *run) readStaged(ctx context.Context, query string, args ...any) ([]stagedRow, error) {
	rows, err := r.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read staging: %w", err)
	}
	defer rows.Close()
	var batch []stagedRow
	for rows.Next() {
		sr := stagedRow{plain: make([]sql.NullString, len(plainColumns)),
			localized: make([]sql.NullString, len(localizedColumns))}
		var archSet int
		dest := []any{&sr.line, &sr.externalID, &sr.idKey, &sr.fp}
		for i := range sr.plain {
			dest = append(dest, &sr.plain[i])
		}
		for i := range sr.localized {
			dest = append(dest, &sr.localized[i])
		}
		dest = append(dest, &archSet, &sr.archAt, &sr.storedID, &sr.bad)
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
	args := make([]any, 0, len(batch))
	for _, sr := range batch {
		if sr.storedID.Valid {
			args = append(args, sr.storedID.Int64)
		}
	}
	if len(args) == 0 {
		return nil, nil
	}
	// By primary key alone: the ids are of this organisation's users (the
	// plan's join found them by org_id), and with org_id = ? too SQLite
	// walked the organisation's users through an (org_id, …) index, four
	// seconds for the ten thousand rows of a changed sync.
	q := `SELECT ` + store.UserColumns() + ` FROM users WHERE id IN (` +
		strings.TrimSuffix(strings.Repeat("?,", len(args)), ",") + `)`
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
func (r *run) merge(stored *store.User, sr stagedRow) (u *roster.User, action string, managerChanged bool, msgs []Message) {
	u = &roster.User{ExternalID: sr.externalID, Status: roster.StatusActive,
		Plain: map[string]string{}, Localized: map[string]map[string]string{}}
	if stored != nil {
		u.Status, u.ArchivedAt = stored.Status, stored.ArchivedAt
		maps.Copy(u.Plain, stored.Plain)
		for k, v := range stored.Localized {
			u.Localized[k] = maps.Clone(v)
		}
	}
	for i, c := range plainColumns {
		if !sr.plain[i].Valid {
			continue
		}
		if v := sr.plain[i].String; v != "" {
			u.Plain[c] = v
		} else {
			delete(u.Plain, c)
		}
	}
	for i, c := range localizedColumns {
		if !sr.localized[i].Valid {
			continue
		}
		set, err := roster.DecodeLocalized(sr.localized[i].String)
		if err != nil {
			return nil, "", false, []Message{{Line: sr.line, Text: err.Error()}}
		}
		roster.SetLocalized(u, c, set)
	}
	var at *time.Time
	if sr.archAt.Valid {
		t := sr.archAt.Time.UTC()
		at = &t
	}
	var bad []string
	if sr.bad.Valid {
		bad = strings.Split(sr.bad.String, ",")
	}
	var storedUser *roster.User
	if stored != nil {
		storedUser = &stored.User
	}
	action, managerChanged, msgs = r.userRules().Settle(storedUser, u, sr.line, sr.archSet, at, bad)
	if len(msgs) > 0 {
		return nil, "", false, msgs
	}
	return u, action, managerChanged, nil
}

// userRules are the create/merge rules of one user for this run's file.
func (r *run) userRules() roster.UserRules {
	return roster.UserRules{Mode: r.mode, Now: r.p.Now, Cols: r.cols, Location: r.loc}
}

// newUser is roster.UserRules.NewUserFieldsHash for this run's file: the
// fields hash of the user a valid row creates, for the set-wise create (see
// planCreates), or "".
func (r *run) newUser(p Patch) string { return r.userRules().NewUserFieldsHash(p) }

// colName is the column as the file wrote it, or its canonical name when the
// file does not have it.
func (r *run) colName(canonical string) string {
	if r.cols == nil { // a revert: no file
		return canonical
	}
	if n := r.cols.Name(canonical); n != "" {
		return n
	}
	return canonical
}

// planValues are the stage_plan values of a merged row; changed is its
// journal's field list (store.EncodeFields, "" for none).
func planValues(sr stagedRow, u *roster.User, action string, managerChanged bool, changed string) []any {
	vals := make([]any, 0, 8+len(plainColumns)+len(localizedColumns))
	vals = append(vals, sr.line, u.ExternalID, sr.idKey, action, boolInt(managerChanged))
	for _, c := range plainColumns {
		vals = append(vals, u.Plain[c])
	}
	for _, c := range localizedColumns {
		vals = append(vals, roster.EncodeLocalized(u.Localized[c]))
	}
	var at any
	if u.ArchivedAt != nil {
		at = u.ArchivedAt.UTC()
	}
	var fields any
	if changed != "" {
		fields = changed
	}
	return append(vals, u.Status, at, u.FieldsHash, sr.fp, store.SearchText(u.ExternalID, u.Plain), fields)
}
