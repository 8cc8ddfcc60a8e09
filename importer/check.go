package importer

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"rosterd/store"
)

// check runs the rules that need more than one row or the stored roster, in
// an order where each sees the failures of the ones before.
func (r *run) check(ctx context.Context) error {
	t := time.Now()
	if r.mode == ModeRevert {
		// A revert's plan is its staging (see planRevert); its users
		// exist and are named once each, so the file's id checks have
		// nothing to find. The checks over the plan run as for a file.
		if err := r.planRevert(ctx); err != nil {
			return err
		}
		t = r.step("plan", t)
		defer r.step("e-mail, manager and loop checks", t)
		return r.checkRounds(ctx)
	}
	if r.skipped > 0 && r.active < 0 {
		// SQLite read the fingerprints before the import took the
		// organisation: each skipped row stands for one of the active users
		// counted then. Users archived, restored or added since would make
		// the checks' counts of who the skipped rows name wrong (one user
		// archived and another missing from the file would cancel out):
		// the import runs again, reading them anew.
		active, err := r.activeUsers(ctx)
		if err != nil {
			return err
		}
		if active != r.known.active || active+r.archived != r.known.users {
			r.p.Logger.Info("users were archived or added while the file was read; the import runs again")
			return ErrImportBusy
		}
	}
	if r.skipped == int(r.im.RowsRead) { // else nothing to count for
		active, err := r.activeUsers(ctx)
		if err != nil {
			return err
		}
		if r.nothingToCheck(active, r.archived) {
			return nil
		}
	}
	if err := r.indexStaging(ctx, r.tx); err != nil {
		return err
	}
	if err := r.stageRepeatedKnown(ctx); err != nil {
		return err
	}
	if err := r.findMissing(ctx); err != nil {
		return err
	}
	if err := r.checkRepeatedIDs(ctx); err != nil {
		return err
	}
	if err := r.checkLookalikeIDs(ctx); err != nil {
		return err
	}
	if r.mode == ModePartial {
		if err := r.checkArchivedInPartial(ctx); err != nil {
			return err
		}
	}
	t = r.step("id checks", t)
	if err := r.plan(ctx); err != nil {
		return err
	}
	t = r.step("plan", t)
	defer r.step("e-mail, manager and loop checks", t)
	return r.checkRounds(ctx)
}

// checkRounds runs the checks over the plan until no more rows fail.
func (r *run) checkRounds(ctx context.Context) error {
	// A row that fails can make another fail (the manager of its reports is
	// gone), so the checks repeat until nothing new fails. Each round that
	// goes on has failed at least one more row, so it ends; real files settle
	// in one or two rounds.
	for {
		n := 0
		for _, check := range []func(context.Context) (int, error){r.checkEmails, r.checkManagers, r.checkCycles} {
			failed, err := check(ctx)
			if err != nil {
				return err
			}
			n += failed
		}
		if n == 0 {
			r.warn(r.managerWarnings...)
			return nil
		}
	}
}

// fail records messages and marks their rows failed, set-wise.
func (r *run) fail(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	r.anyFailed = true
	errs := newBatchInserter(ctx, r.tx, r.db.Dialect, "stage_errors", []string{"line", "seq", "message"})
	lines := make([]int, 0, len(msgs))
	for _, m := range msgs {
		r.seq++
		if err := errs.Add(m.Line, r.seq, m.Cell()); err != nil {
			return err
		}
		lines = append(lines, m.Line)
	}
	if err := errs.Flush(); err != nil {
		return err
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	for chunk := range slices.Chunk(lines, 500) {
		args := make([]any, len(chunk))
		for i, l := range chunk {
			args[i] = l
		}
		in := `(` + strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + `)`
		for _, q := range []string{`UPDATE stage_rows SET failed = 1 WHERE line IN ` + in,
			`UPDATE stage_plan SET failed = 1 WHERE line IN ` + in} {
			if _, err := r.tx.ExecContext(ctx, r.tx.Rebind(q), args...); err != nil {
				return fmt.Errorf("mark failed rows: %w", err)
			}
		}
	}
	return nil
}

// probe ends a correlated subquery that must stay a probe, run once per row
// of the few rows it is asked about and answered through an index. A changed
// sync asks about ten thousand rows of a million-row file: PostgreSQL would
// otherwise turn the subquery into a join and hash the whole file or roster
// to answer them (2 s for the managers' check alone). OFFSET 0 is the fence
// PostgreSQL does not pull a subquery through. When most rows of the file
// were not skipped (a first import, a large change), the join is the better
// plan and PostgreSQL is left to choose it. SQLite answers correlated
// subqueries through indexes already, and takes no OFFSET without a LIMIT.
func (r *run) probe() string {
	if r.db.Dialect == store.Postgres && r.skipped*2 > int(r.im.RowsRead) {
		return " OFFSET 0"
	}
	return ""
}

// lineValue is one row of a check's query: a line and the value at fault.
type lineValue struct {
	line  int
	value string
	other string
}

// queryLines runs a check's query; what names the check (see run.explain).
func (r *run) queryLines(ctx context.Context, what, q string, args ...any) ([]lineValue, error) {
	q = r.tx.Rebind(q)
	if err := r.explain(ctx, what, q, args...); err != nil {
		return nil, err
	}
	defer r.step(what, time.Now())
	rows, err := r.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []lineValue
	cols, _ := rows.Columns()
	for rows.Next() {
		var lv lineValue
		dest := []any{&lv.line, &lv.value}
		if len(cols) == 3 {
			dest = append(dest, &lv.other)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, lv)
	}
	return out, rows.Err()
}

// groupRepeats turns rows ordered by value into one message per row naming
// every line that holds the same value.
func groupRepeats(found []lineValue, column, what string) []Message {
	var msgs []Message
	for i := 0; i < len(found); {
		j := i
		var lines []int
		for j < len(found) && found[j].value == found[i].value {
			lines = append(lines, found[j].line)
			j++
		}
		for _, l := range lines {
			msgs = append(msgs, Message{Line: l, Column: column,
				Text: fmt.Sprintf("%s appears on lines %s; %s", quote(found[i].value), joinLines(lines), what)})
		}
		i = j
	}
	return msgs
}

// findMissing lists, in a full sync, the active users the file does not
// name: the sync archives them. A row that fails still names its user, who is
// then kept. Stored users 4512 and 004512 are two people, so a stored user is
// named by its own external_id only; the one exception is a new row whose id
// is a stored one with its leading zeros lost (checkLookalikeIDs fails it),
// which keeps the user it looks like (SPEC §2.2).
//
// Each row skipped as known names another active user; when they name them
// all, nobody is missing and the anti-join over the roster is not needed.
//
// Both statements follow indexes whatever the statistics say (users were
// written moments ago and may not be analysed yet): the anti-join probes
// stage_rows by external_id, and the lookalikes are looked up from the few
// rows that were not skipped.
func (r *run) findMissing(ctx context.Context) error {
	if r.mode != ModeFull {
		return nil
	}
	active, err := r.activeUsers(ctx)
	if err != nil {
		return err
	}
	if r.skipped == active {
		return nil
	}
	// The new rows that may look like a stored user, for the shield below and
	// checkManagers. Built only when some rows were not skipped: when the
	// skipped ones name every active user (an empty organisation, an
	// identical re-sync) no stored user can need it.
	if _, err := r.tx.ExecContext(ctx, `CREATE INDEX stage_rows_new_id_key ON stage_rows (id_key) WHERE skip = 0`); err != nil {
		return fmt.Errorf("index new ids: %w", err)
	}
	// The rows that were not skipped name the rest of the active users
	// (a changed sync): counted through the index, from those few rows,
	// that is cheaper than the anti-join over the whole roster below.
	var named int
	t := time.Now()
	if err := r.tx.GetContext(ctx, &named, r.tx.Rebind(`SELECT COUNT(DISTINCT u.id) FROM stage_rows s CROSS JOIN users u
		WHERE u.org_id = ? AND u.external_id = s.external_id AND u.status = 'active'
		AND s.skip = 0 AND NOT EXISTS (SELECT 1 FROM stage_rows k WHERE k.skip = 1 AND k.external_id = s.external_id`+r.probe()+`)`),
		r.org.ID); err != nil {
		return fmt.Errorf("find missing users: %w", err)
	}
	r.step("users the changed rows name", t)
	if r.skipped+named == active {
		return nil
	}
	if err := r.findUnnamed(ctx); err != nil {
		return err
	}
	if err := r.exec(ctx, "keep users a lookalike id names", `DELETE FROM stage_missing WHERE id IN (
		SELECT u.id FROM stage_rows s CROSS JOIN users u
		WHERE u.org_id = ? AND u.id_key = s.id_key AND LENGTH(s.external_id) < LENGTH(u.external_id)
		AND s.skip = 0 AND NOT EXISTS (SELECT 1 FROM users x WHERE x.org_id = ? AND x.external_id = s.external_id))`,
		r.org.ID, r.org.ID); err != nil {
		return err
	}
	return analyze(ctx, r.tx, r.db.Dialect, "stage_missing")
}

// stageRepeatedKnown stages, with skip = 1, each skipped row whose
// external_id a staged row repeats, so that checkRepeatedIDs fails both as it
// fails any two rows with one id, and findMissing counts the user as named by
// a skipped row. Such a row is found from the staged rows (the few changed
// ones): their stored users whose fingerprint a line claimed.
func (r *run) stageRepeatedKnown(ctx context.Context) error {
	if r.skipped == 0 {
		return nil
	}
	// CROSS JOIN: SQLite reads the staged rows and looks their users up.
	q := r.tx.Rebind(`SELECT DISTINCT u.external_id, u.source_hash FROM stage_rows s CROSS JOIN users u
		WHERE u.org_id = ? AND u.external_id = s.external_id AND u.source_hash IS NOT NULL AND s.skip = 0`)
	if err := r.explain(ctx, "repeated known rows", q, r.org.ID); err != nil {
		return err
	}
	defer r.step("repeated known rows", time.Now())
	var users []struct {
		ExternalID string `db:"external_id"`
		SourceHash string `db:"source_hash"`
	}
	if err := r.tx.SelectContext(ctx, &users, q, r.org.ID); err != nil {
		return fmt.Errorf("repeated known rows: %w", err)
	}
	rows := newBatchInserter(ctx, r.tx, r.db.Dialect, "stage_rows", stageRowColumns())
	for _, u := range users {
		if l := r.known.claimedLine(u.SourceHash); l != 0 {
			if err := rows.Add(l, u.ExternalID, "", 0, 1, nil); err != nil {
				return err
			}
			r.restaged++
		}
	}
	return rows.Flush()
}

// findUnnamed fills stage_missing with the active users no row names: the
// users no staged row names by external_id (an anti-join through the
// staging index) that no skipped row stands for either (their fingerprint
// was not claimed, see knownRows.claimedLine).
//
// Each skipped row that was not staged stands for one of the users the
// anti-join returns: if fewer of them are claimed, a user was changed after
// its fingerprint was read (on SQLite the file is staged before the import
// takes the organisation), and the row that skipped it could be mistaken for
// a missing user. The import then runs again (ErrImportBusy), reading the
// fingerprints anew.
func (r *run) findUnnamed(ctx context.Context) error {
	q := r.tx.Rebind(`SELECT u.id, u.source_hash FROM users u WHERE u.org_id = ? AND u.status = 'active'
		AND NOT EXISTS (SELECT 1 FROM stage_rows s WHERE s.external_id = u.external_id)`)
	if err := r.explain(ctx, "find missing users", q, r.org.ID); err != nil {
		return err
	}
	t := time.Now()
	rows, err := r.tx.QueryContext(ctx, q, r.org.ID)
	if err != nil {
		return fmt.Errorf("find missing users: %w", err)
	}
	var missing []int64 // 8 bytes a user: inserted once the query is done
	claimed := 0
	for rows.Next() {
		var id int64
		var hash sql.NullString
		if err := rows.Scan(&id, &hash); err != nil {
			rows.Close()
			return fmt.Errorf("find missing users: %w", err)
		}
		if hash.Valid && r.known.claimedLine(hash.String) != 0 {
			claimed++
			continue
		}
		missing = append(missing, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find missing users: %w", err)
	}
	r.step("find missing users", t)
	if claimed != r.skipped-r.restaged {
		r.p.Logger.Info("users were changed while the file was read; the import runs again",
			"skipped_rows", r.skipped-r.restaged, "users_they_name", claimed)
		return ErrImportBusy
	}
	for chunk := range slices.Chunk(missing, 500) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if _, err := r.tx.ExecContext(ctx, r.tx.Rebind(`INSERT INTO stage_missing (id, external_id)
			SELECT id, external_id FROM users WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")+`)`), args...); err != nil {
			return fmt.Errorf("find missing users: %w", err)
		}
	}
	return nil
}

// checkRepeatedIDs fails every row whose external_id another row repeats.
// Rows skipped as known never repeat each other (each stands for another
// stored user), so every repeat involves a row that was not skipped.
func (r *run) checkRepeatedIDs(ctx context.Context) error {
	found, err := r.queryLines(ctx, "repeated ids", `SELECT line, external_id FROM stage_rows WHERE external_id IN (
		SELECT s.external_id FROM stage_rows s WHERE s.skip = 0 AND s.external_id <> ''
		AND EXISTS (SELECT 1 FROM stage_rows t WHERE t.external_id = s.external_id AND t.line <> s.line`+r.probe()+`))
		ORDER BY external_id, line`)
	if err != nil {
		return err
	}
	return r.fail(ctx, groupRepeats(found, r.colName("external_id"), "an id may appear once in a file"))
}

// checkLookalikeIDs fails new ids that equal a stored id but for the leading
// zeros a spreadsheet drops; in a full sync that stored user counts as present.
func (r *run) checkLookalikeIDs(ctx context.Context) error {
	// CROSS JOIN: SQLite then reads the rows not skipped and looks their
	// keys up, rather than reading every stored user (PostgreSQL treats it
	// as the join it is).
	found, err := r.queryLines(ctx, "lookalike ids", `SELECT s.line, s.external_id, MIN(u.external_id) FROM stage_rows s CROSS JOIN users u
		WHERE u.org_id = ? AND u.id_key = s.id_key AND LENGTH(s.external_id) < LENGTH(u.external_id)
		AND s.skip = 0 AND NOT EXISTS (SELECT 1 FROM users x WHERE x.org_id = ? AND x.external_id = s.external_id)
		GROUP BY s.line, s.external_id ORDER BY s.line`, r.org.ID, r.org.ID)
	if err != nil {
		return err
	}
	var msgs []Message
	for _, f := range found {
		advice := csvTextAdvice
		if r.numberIDs.has(int64(f.line)) {
			advice = workbookNumberAdvice
		}
		msgs = append(msgs, Message{Line: f.line, Column: r.colName("external_id"), Text: fmt.Sprintf(
			"%s looks like %s with its leading zeros lost by a spreadsheet; %s",
			quote(f.value), quote(f.other), advice)})
	}
	return r.fail(ctx, msgs)
}

// checkArchivedInPartial fails back-office rows for archived users: an
// upload never restores anybody by accident.
func (r *run) checkArchivedInPartial(ctx context.Context) error {
	found, err := r.queryLines(ctx, "archived users named", `SELECT s.line, s.external_id FROM stage_rows s
		JOIN users u ON u.org_id = ? AND u.external_id = s.external_id
		WHERE s.skip = 0 AND u.status = 'archived' ORDER BY s.line`, r.org.ID)
	if err != nil {
		return err
	}
	var msgs []Message
	for _, f := range found {
		msgs = append(msgs, Message{Line: f.line, Column: r.colName("external_id"),
			Text: fmt.Sprintf("user %s is archived; restore them first", quote(f.value))})
	}
	return r.fail(ctx, msgs)
}

// validPlan is the plan rows of rows that have not failed (fail marks both
// tables), as p.
const validPlan = `(SELECT * FROM stage_plan WHERE failed = 0) p`

// checkEmails keeps business_email unique among the organisation's users as
// they will be after the import: two changed rows may not share one, and a
// changed row may not take one that another user keeps.
func (r *run) checkEmails(ctx context.Context) (int, error) {
	col := r.colName("business_email")
	dups, err := r.queryLines(ctx, "repeated e-mails", `SELECT p.line, p.business_email FROM `+validPlan+`
		WHERE p.business_email <> '' AND p.business_email IN (
			SELECT p2.business_email FROM stage_plan p2
			WHERE p2.failed = 0 AND p2.business_email <> '' GROUP BY p2.business_email HAVING COUNT(*) > 1)
		ORDER BY p.business_email, p.line`)
	if err != nil {
		return 0, err
	}
	msgs := groupRepeats(dups, col, "an e-mail address may belong to one user only")
	if r.noStoredUsers {
		// A first import: no stored user keeps an address.
		return len(msgs), r.fail(ctx, msgs)
	}
	// Each changed row asks the users index for its address (a subquery per
	// row): a join would read the whole roster to answer ten thousand rows.
	// (MIN of external_id || '', not of the column: SQLite would find the
	// MIN of the column by reading the organisation's users in id order
	// until one has the address.)
	taken, err := r.queryLines(ctx, "e-mails taken", `SELECT line, business_email, other FROM (
			SELECT p.line, p.business_email, (SELECT MIN(u.external_id || '') FROM users u
				WHERE u.org_id = ? AND u.business_email = p.business_email AND u.external_id <> p.external_id
				AND NOT EXISTS (SELECT 1 FROM stage_plan p3 WHERE p3.failed = 0 AND p3.external_id = u.external_id`+r.probe()+`)) AS other
			FROM `+validPlan+` WHERE p.business_email <> ''`+r.probe()+`) t
		WHERE other IS NOT NULL ORDER BY line`, r.org.ID)
	if err != nil {
		return 0, err
	}
	for _, t := range taken {
		msgs = append(msgs, Message{Line: t.line, Column: col, Text: fmt.Sprintf(
			"%s is already the business e-mail of user %s; an e-mail address may belong to one user only",
			quote(t.value), quote(t.other))})
	}
	return len(msgs), r.fail(ctx, msgs)
}

// checkManagers fails rows whose manager will not be a user after the
// import (SPEC §2.2): an id that is neither a row of the file nor a stored
// user, or a new user whose own row failed. A manager who is or will be
// archived (stored archived and not restored by the file, archived by the
// file's archived_at, or missing from a full roster, see findMissing) is
// accepted and the link kept: a manager who leaves does not fail their
// reports. Each such manager is named in the import's warnings with how many
// valid rows name them (see managerWarnings), on every import whose rows
// still do. A stored manager whose row failed stays as stored, and so does
// the link to them.
//
// A row skipped as known keeps its stored manager, who was a user when it
// was stored (users are never deleted): it can only be named in a warning,
// for a manager no longer active, that this sync archives, or whose row of
// this file leaves them archived. Only skipped rows under such a manager are
// looked at (stage_known_reports, see stageKnownReports), so an unchanged
// roster costs no join over all its users, and a changed one only the
// reports of the few managers it takes away. The
// classification runs only on the rows whose manager is not an active user
// after the import: a few in a real file.
func (r *run) checkManagers(ctx context.Context) (int, error) {
	query := `WITH eff AS (
			SELECT s.line, COALESCE(p.manager, u.manager) AS manager FROM stage_rows s
			LEFT JOIN stage_plan p ON p.line = s.line
			LEFT JOIN users u ON u.org_id = ? AND u.external_id = s.external_id
			WHERE s.failed = 0 AND s.skip = 0
			UNION ALL
			SELECT k.line, k.manager FROM stage_known_reports k
			WHERE k.manager IN (
				SELECT external_id FROM stage_plan WHERE failed = 0 AND status <> 'active'
				UNION ALL SELECT external_id FROM users WHERE org_id = ? AND status = 'archived'
				UNION ALL SELECT external_id FROM stage_missing)
			AND NOT EXISTS (SELECT 1 FROM stage_rows s WHERE s.line = k.line AND s.failed = 1))
		SELECT e.line, e.manager, COALESCE(
			(SELECT CASE WHEN m.failed = 0 THEN COALESCE((SELECT mp.status FROM stage_plan mp WHERE mp.line = m.line), mu.status)
					ELSE COALESCE(mu.status, '` + managerRowFailed + `' || m.line) END
				FROM stage_rows m LEFT JOIN users mu ON mu.org_id = ? AND mu.external_id = m.external_id
				WHERE m.external_id = e.manager ORDER BY m.failed, m.line LIMIT 1),
			(SELECT CASE WHEN su.status = 'active' AND EXISTS (SELECT 1 FROM stage_missing sm WHERE sm.id = su.id)
					THEN '` + managerMissing + `' ELSE su.status END
				FROM users su WHERE su.org_id = ? AND su.external_id = e.manager),
			'` + managerUnknown + `') FROM eff e
		WHERE e.manager IS NOT NULL AND e.manager <> ''
		AND NOT EXISTS (
			SELECT 1 FROM stage_rows m WHERE m.external_id = e.manager AND COALESCE(
				CASE WHEN m.failed = 0 THEN (SELECT mp.status FROM stage_plan mp WHERE mp.line = m.line) END,
				(SELECT mu.status FROM users mu WHERE mu.org_id = ? AND mu.external_id = m.external_id)) = 'active'` + r.probe() + `)
		AND NOT EXISTS (
			SELECT 1 FROM users su WHERE su.org_id = ? AND su.external_id = e.manager AND su.status = 'active'
			AND NOT EXISTS (SELECT 1 FROM stage_rows x WHERE x.external_id = su.external_id)
			AND NOT EXISTS (SELECT 1 FROM stage_missing sm WHERE sm.id = su.id))
		ORDER BY e.line`
	args := []any{r.org.ID, r.org.ID, r.org.ID, r.org.ID, r.org.ID, r.org.ID}
	if r.noStoredUsers {
		// A first import: every manager must be a valid row of the file,
		// and every row that names one is in the plan. The same rule as
		// above with the stored roster empty, without its joins over a
		// million rows.
		query, args = `SELECT p.line, p.manager, COALESCE((SELECT CASE WHEN m.failed = 0 THEN mp.status ELSE '`+managerRowFailed+`' || m.line END
				FROM stage_rows m LEFT JOIN stage_plan mp ON mp.line = m.line
				WHERE m.external_id = p.manager ORDER BY m.failed, m.line LIMIT 1), '`+managerUnknown+`')
			FROM `+validPlan+` WHERE p.manager <> ''
			AND NOT EXISTS (SELECT 1 FROM stage_plan m WHERE m.external_id = p.manager AND m.failed = 0 AND m.status = 'active')
			ORDER BY p.line`, nil
	}
	if err := r.stageKnownReports(ctx); err != nil {
		return 0, err
	}
	found, err := r.queryLines(ctx, "managers", query, args...)
	if err != nil {
		return 0, err
	}
	col := r.colName("manager")
	var msgs []Message
	var archived []lineValue
	for _, f := range found {
		switch {
		case f.other == managerUnknown:
			msgs = append(msgs, Message{Line: f.line, Column: col, Text: fmt.Sprintf(
				"%s is not a user the manager can be: no row of this file and no user of the organisation has that external_id; "+
					"give the external_id of the person they report to", quote(f.value))})
		case strings.HasPrefix(f.other, managerRowFailed):
			msgs = append(msgs, Message{Line: f.line, Column: col, Text: fmt.Sprintf(
				"%s is on line %s, which failed; fix that row and this one imports with it",
				quote(f.value), strings.TrimPrefix(f.other, managerRowFailed))})
		default:
			archived = append(archived, f)
		}
	}
	r.managerWarnings = managerWarnings(archived)
	return len(msgs), r.fail(ctx, msgs)
}

// stageKnownReports fills stage_known_reports, once, with the skipped rows
// (not staged, see stagingDDL) whose stored manager may not be an active user
// after the import: archived, archived by a row of the file, or missing
// from a full roster. checkManagers names those managers in its warnings.
// The set is taken as the first round of checks sees it, whether or not the
// archiving row fails later (checkManagers asks again each round): failing
// rows only ever shrink it. The users under those managers are found through
// the managers index and kept if a line claimed their fingerprint: a few in
// a real file, and nothing at all in an organisation that archives nobody.
func (r *run) stageKnownReports(ctx context.Context) (err error) {
	if r.knownReports || r.noStoredUsers || r.skipped == r.restaged {
		return nil
	}
	r.knownReports = true
	managers := `(SELECT external_id FROM stage_plan WHERE status <> 'active'
		UNION SELECT external_id FROM users WHERE org_id = ? AND status = 'archived'
		UNION SELECT external_id FROM stage_missing) m`
	// From each such manager to their reports through users_org_manager:
	// SQLite keeps a CROSS JOIN's order; PostgreSQL keeps a LATERAL
	// subquery fenced by OFFSET 0 a probe.
	q := `SELECT u.source_hash, u.manager FROM ` + managers + ` CROSS JOIN users u
		WHERE u.org_id = ? AND u.manager = m.external_id AND u.source_hash IS NOT NULL`
	if r.db.Dialect == store.Postgres {
		q = `SELECT u.source_hash, u.manager FROM ` + managers + ` CROSS JOIN LATERAL (
			SELECT u.source_hash, u.manager FROM users u
			WHERE u.org_id = ? AND u.manager = m.external_id AND u.source_hash IS NOT NULL OFFSET 0) u`
	}
	q = r.tx.Rebind(q)
	if r.db.Dialect == store.Postgres {
		// The probe must go through users_org_manager. Where the stored
		// users name few managers (none: every manager ''), the
		// statistics say a probe matches most of the roster, and
		// PostgreSQL scanned all users once per manager asked about
		// (measured: 4,000 archived or missing × 10,000 users, 6.2 s;
		// through the index, milliseconds). Sequential scans are off for
		// this query only, the setting put back right after.
		var prev string
		if err := r.tx.GetContext(ctx, &prev, `SELECT current_setting('enable_seqscan')`); err != nil {
			return fmt.Errorf("reports of skipped rows: %w", err)
		}
		if _, err := r.tx.ExecContext(ctx, `SELECT set_config('enable_seqscan', 'off', true)`); err != nil {
			return fmt.Errorf("reports of skipped rows: %w", err)
		}
		defer func() {
			if err == nil {
				if _, err = r.tx.ExecContext(ctx, `SELECT set_config('enable_seqscan', $1, true)`, prev); err != nil {
					err = fmt.Errorf("reports of skipped rows: %w", err)
				}
			}
		}()
	}
	if err := r.explain(ctx, "reports of skipped rows", q, r.org.ID, r.org.ID); err != nil {
		return err
	}
	defer r.step("reports of skipped rows", time.Now())
	var reports []struct {
		SourceHash string `db:"source_hash"`
		Manager    string `db:"manager"`
	}
	if err := r.tx.SelectContext(ctx, &reports, q, r.org.ID, r.org.ID); err != nil {
		return fmt.Errorf("reports of skipped rows: %w", err)
	}
	rows := newBatchInserter(ctx, r.tx, r.db.Dialect, "stage_known_reports", []string{"line", "manager"})
	for _, k := range reports {
		if l := r.known.claimedLine(k.SourceHash); l != 0 {
			if err := rows.Add(l, k.Manager); err != nil {
				return err
			}
		}
	}
	return rows.Flush()
}

// What checkManagers finds of a manager who is not an active user after the
// import, besides a stored status (archived).
const (
	managerUnknown   = "unknown"     // neither a row of the file nor a stored user
	managerMissing   = "missing"     // active, missing from this full roster: archived by it
	managerRowFailed = "row failed " // a new user whose row failed, followed by its line
)

// managerWarnings names each manager who is or will be archived once, with
// how many rows name them (SPEC §2.2), in the order their first report comes
// in the file. The rows that fail in the same round are among them when
// checkManagers reports them; check keeps the warnings of the round in which
// no row failed, so only rows that apply are counted.
func managerWarnings(found []lineValue) []string {
	type named struct {
		missing bool
		rows    int
	}
	by := map[string]*named{}
	var order []string
	for _, f := range found {
		n := by[f.value]
		if n == nil {
			n = &named{missing: f.other == managerMissing}
			by[f.value] = n
			order = append(order, f.value)
		}
		n.rows++
	}
	out := make([]string, 0, len(order))
	for _, m := range order {
		n := by[m]
		rows := fmt.Sprintf("%d rows name them", n.rows)
		if n.rows == 1 {
			rows = "1 row names them"
		}
		if n.missing {
			out = append(out, fmt.Sprintf("manager %s is not in this roster and this sync archives them; %s", quote(m), rows))
		} else {
			out = append(out, fmt.Sprintf("manager %s is archived; %s", quote(m), rows))
		}
	}
	return out
}

// edge is one "reports to" link of the roster after the import. Nodes are
// file rows (their line, > 0) and stored users outside the file (-id).
type edge struct{ child, parent int64 }

// checkCycles fails rows whose new manager closes a loop of managers. Only
// changed links can close one (the stored roster has none), so it runs only
// when the file changes a manager. The graph is held as integer pairs (see
// edgeList): 8 bytes a user, 8 MiB for a million.
func (r *run) checkCycles(ctx context.Context) (int, error) {
	var changed lineSet
	var nChanged int
	rows, err := r.tx.QueryContext(ctx, `SELECT p.line FROM `+validPlan+` WHERE p.manager_changed = 1`)
	if err != nil {
		return 0, fmt.Errorf("cycle check: %w", err)
	}
	for rows.Next() {
		var l int
		if err := rows.Scan(&l); err != nil {
			rows.Close()
			return 0, fmt.Errorf("cycle check: %w", err)
		}
		changed.add(l)
		nChanged++
	}
	rows.Close()
	if err := rows.Err(); err != nil || nChanged == 0 {
		return 0, err
	}
	edgesSQL, args := edgesAll, []any{r.org.ID, r.org.ID, r.org.ID}
	if r.noStoredUsers {
		edgesSQL, args = edgesFileOnly, nil
	}
	if err := r.explain(ctx, "manager links", r.tx.Rebind(edgesSQL), args...); err != nil {
		return 0, err
	}
	// Sorted by the database, read once, held in blocks: no block is ever
	// copied to grow the list, so the edges take what they need and no more.
	// A file alone (no stored users) has lines for nodes: its graph is each
	// line's parent line, 4 bytes a line (lineParents).
	var edges edgeList
	var lines *lineParents
	var graph reportsTo = &edges
	if r.noStoredUsers {
		var last int64
		if err := r.tx.GetContext(ctx, &last, `SELECT COALESCE(MAX(line), 0) FROM stage_rows`); err != nil {
			return 0, fmt.Errorf("cycle check: %w", err)
		}
		lines = newLineParents(last)
		graph = lines
	}
	rows, err = r.tx.QueryContext(ctx, r.tx.Rebind(`SELECT child, parent FROM (`+edgesSQL+`) e ORDER BY child`), args...)
	if err != nil {
		return 0, fmt.Errorf("cycle check: %w", err)
	}
	for rows.Next() {
		var e edge
		if err := rows.Scan(&e.child, &e.parent); err != nil {
			rows.Close()
			return 0, fmt.Errorf("cycle check: %w", err)
		}
		if lines != nil {
			lines.add(e)
		} else {
			edges.add(e)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("cycle check: %w", err)
	}
	cycles := findCycles(graph, changed.has)
	if len(cycles) == 0 {
		return 0, nil
	}
	names, err := r.nodeNames(ctx, cycles)
	if err != nil {
		return 0, err
	}
	var msgs []Message
	for _, c := range cycles {
		path := make([]string, 0, len(c)+1)
		for _, n := range c {
			path = append(path, names[n])
		}
		path = append(path, names[c[0]])
		for i, n := range c {
			if n > 0 && changed.has(n) {
				parent := c[(i+1)%len(c)]
				msgs = append(msgs, Message{Line: int(n), Column: r.colName("manager"), Text: fmt.Sprintf(
					"%s would make a loop of managers (%s); a user cannot manage, even indirectly, their own manager",
					quote(names[parent]), strings.Join(path, " → "))})
			}
		}
	}
	return len(msgs), r.fail(ctx, msgs)
}

// edgesAll are the "reports to" links of the roster after the import: each
// valid row's manager (of the row, or kept from its stored user) and each
// stored user's outside the file, to a row of the file or a stored user.
const edgesAll = `WITH eff AS (
			SELECT s.line AS child, COALESCE(p.manager, u.manager) AS manager FROM stage_rows s
			LEFT JOIN stage_plan p ON p.line = s.line
			LEFT JOIN users u ON u.org_id = ? AND u.external_id = s.external_id
			WHERE s.failed = 0)
		SELECT e.child AS child, COALESCE(ms.line, -mu.id) AS parent FROM eff e
		LEFT JOIN stage_rows ms ON ms.external_id = e.manager AND ms.failed = 0
		LEFT JOIN users mu ON mu.org_id = ? AND mu.external_id = e.manager
		WHERE e.manager <> '' AND (ms.line IS NOT NULL OR mu.id IS NOT NULL)
		UNION ALL
		SELECT -u.id, COALESCE(ms.line, -mu.id) FROM users u
		LEFT JOIN stage_rows ms ON ms.external_id = u.manager AND ms.failed = 0
		LEFT JOIN users mu ON mu.org_id = u.org_id AND mu.external_id = u.manager
		WHERE u.org_id = ? AND u.manager <> ''
		AND NOT EXISTS (SELECT 1 FROM stage_rows x WHERE x.external_id = u.external_id AND x.failed = 0)
		AND (ms.line IS NOT NULL OR mu.id IS NOT NULL)`

// edgesFileOnly are those links in an organisation without users: from
// each valid row of the plan to the valid row that manages it.
const edgesFileOnly = `SELECT p.line AS child, ms.line AS parent FROM ` + validPlan + `
		JOIN stage_rows ms ON ms.external_id = p.manager AND ms.failed = 0
		WHERE p.manager <> ''`

// lineSet is a set of file lines as a bitmap: 125 KiB for a million lines.
type lineSet []uint64

func (s *lineSet) add(line int) {
	for len(*s) <= line/64 {
		*s = append(*s, 0)
	}
	(*s)[line/64] |= 1 << (line % 64)
}

func (s lineSet) has(n int64) bool {
	if n <= 0 || int(n/64) >= len(s) {
		return false
	}
	return s[n/64]&(1<<(n%64)) != 0
}

// edgeList is the reports-to graph's edges sorted by child, in blocks of
// edgeBlock, so that it grows without copying what it holds. Nodes are file
// lines and negated user ids: while every one fits in 32 bits (a file's lines
// always do, and user ids below 2^31), an edge takes 8 bytes, and the first
// import of a million managed users holds 8 MiB of graph instead of 16 (its
// peak heap, and so the import's peak RSS, is this graph). The first node
// that does not fit widens the list to 16 bytes an edge.
type edgeList struct {
	narrow [][]edge32
	wide   [][]edge
	n      int
}

// edge32 is an edge whose nodes fit in 32 bits.
type edge32 struct{ child, parent int32 }

const edgeBlock = 1 << 16

func fits32(v int64) bool { return v == int64(int32(v)) }

func (l *edgeList) add(e edge) {
	if l.wide == nil && !(fits32(e.child) && fits32(e.parent)) {
		l.widen()
	}
	if l.wide != nil {
		if l.n%edgeBlock == 0 {
			l.wide = append(l.wide, nil) // grows as a slice up to edgeBlock
		}
		b := &l.wide[len(l.wide)-1]
		*b = append(*b, e)
	} else {
		if l.n%edgeBlock == 0 {
			l.narrow = append(l.narrow, nil)
		}
		b := &l.narrow[len(l.narrow)-1]
		*b = append(*b, edge32{int32(e.child), int32(e.parent)})
	}
	l.n++
}

// widen moves the edges held so far to 16-byte blocks, each narrow block
// dropped once it is copied.
func (l *edgeList) widen() {
	l.wide = make([][]edge, 0, len(l.narrow)+1)
	for i, b := range l.narrow {
		w := make([]edge, len(b), cap(b))
		for j, e := range b {
			w[j] = edge{int64(e.child), int64(e.parent)}
		}
		l.wide = append(l.wide, w)
		l.narrow[i] = nil
	}
	l.narrow = nil
}

func (l *edgeList) at(i int) edge {
	if l.wide != nil {
		return l.wide[i/edgeBlock][i%edgeBlock]
	}
	e := l.narrow[i/edgeBlock][i%edgeBlock]
	return edge{int64(e.child), int64(e.parent)}
}

func (l *edgeList) len() int { return l.n }

// reportsTo is the reports-to graph findCycles walks: edges 0 to len()-1,
// and the index of a node's own edge.
type reportsTo interface {
	len() int
	at(i int) edge
	find(n int64) int // the index of the edge of child n, or -1 when n has no manager
}

// lineParents is the reports-to graph of a file alone (a first import),
// whose nodes are all lines: parents[l-1] is the line that manages line l,
// 0 for none. It takes 4 bytes a line of the file where an edgeList takes 8
// a managed user: the first import of a million rows holds 4 MiB of graph
// instead of 8, and the cycle check's graph is that import's peak heap
// (README, SQLite's peak RSS).
type lineParents struct{ parents []int32 }

// newLineParents holds the graph of a file whose last line is last.
func newLineParents(last int64) *lineParents {
	return &lineParents{parents: make([]int32, max(last, 0))}
}

// add records that e.child is managed by e.parent; both are lines of the
// file (a file's lines fit in 32 bits).
func (g *lineParents) add(e edge) {
	if e.child >= 1 && e.child <= int64(len(g.parents)) {
		g.parents[e.child-1] = int32(e.parent)
	}
}

func (g *lineParents) len() int { return len(g.parents) }

// at is line i+1's edge; a line without a manager has parent 0, which no
// line is, so a walk from it ends there.
func (g *lineParents) at(i int) edge { return edge{int64(i) + 1, int64(g.parents[i])} }

func (g *lineParents) find(n int64) int {
	if n < 1 || n > int64(len(g.parents)) || g.parents[n-1] == 0 {
		return -1
	}
	return int(n - 1)
}

// blocks is how many blocks hold the edges.
func (l *edgeList) blocks() int { return max(len(l.narrow), len(l.wide)) }

// find is the index of the edge of child n, or -1 when n has no manager.
func (l *edgeList) find(n int64) int {
	i := sort.Search(l.n, func(i int) bool { return l.at(i).child >= n })
	if i < l.n && l.at(i).child == n {
		return i
	}
	return -1
}

// findCycles returns each loop of the reports-to graph that a changed node
// leads into, as the list of its nodes in reports-to order. Every node has
// at most one parent, so a walk up from each changed node meets at most one
// loop. The walk state is one byte per edge, indexed like the edges.
func findCycles(edges reportsTo, changed func(int64) bool) [][]int64 {
	const (
		onPath = 1
		done   = 2
	)
	state := make([]uint8, edges.len())
	var cycles [][]int64
	var path []int
	for start := range edges.len() {
		if state[start] != 0 || !changed(edges.at(start).child) {
			continue
		}
		path = path[:0]
		i := start
		for i >= 0 && state[i] == 0 {
			state[i] = onPath
			path = append(path, i)
			i = edges.find(edges.at(i).parent)
		}
		if i >= 0 && state[i] == onPath {
			var c []int64
			for _, p := range path[slices.Index(path, i):] {
				c = append(c, edges.at(p).child)
			}
			cycles = append(cycles, c)
		}
		for _, p := range path {
			state[p] = done
		}
	}
	return cycles
}

// nodeNames looks up the external ids of the nodes of the cycles found.
func (r *run) nodeNames(ctx context.Context, cycles [][]int64) (map[int64]string, error) {
	names := map[int64]string{}
	for _, c := range cycles {
		for _, n := range c {
			var q string
			var id int64
			if n > 0 {
				q, id = `SELECT external_id FROM stage_rows WHERE line = ?`, n
			} else {
				q, id = `SELECT external_id FROM users WHERE id = ?`, -n
			}
			var name string
			if err := r.tx.GetContext(ctx, &name, r.tx.Rebind(q), id); err != nil {
				return nil, fmt.Errorf("cycle check: %w", err)
			}
			names[n] = name
		}
	}
	return names, nil
}
