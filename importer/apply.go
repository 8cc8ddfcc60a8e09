package importer

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"rosterd/roster"
	"rosterd/store"
)

// count works out the import's counts from the staging tables, before
// anything is applied, so a dry run and a held sync report what would happen.
// wouldArchive is every user the import archives: missing from a full
// roster, or archived by the file's archived_at.
func (r *run) count(ctx context.Context) (c store.Counts, wouldArchive int, err error) {
	// A row that failed set anyFailed: when none did, the counts of the
	// rows are known without reading the staged ones again. Only a skipped
	// row whose id another repeats is staged among the skipped (see
	// stageRepeatedKnown), and only such a one can have failed.
	c.Rows, r.skippedValid = int(r.im.RowsRead), r.skipped
	if r.anyFailed {
		var staged, skippedFailed int
		if err := r.tx.QueryRowxContext(ctx, `SELECT COUNT(*), COALESCE(SUM(failed), 0),
		COALESCE(SUM(CASE WHEN skip = 1 AND failed = 1 THEN 1 ELSE 0 END), 0) FROM stage_rows`).Scan(&staged, &c.Failed, &skippedFailed); err != nil {
			return c, 0, fmt.Errorf("count rows: %w", err)
		}
		c.Rows, r.skippedValid = staged+r.skipped-r.restaged, r.skipped-skippedFailed
	}
	rows, err := r.tx.QueryContext(ctx, `SELECT p.action, COUNT(*) FROM `+validPlan+` GROUP BY p.action`)
	if err != nil {
		return c, 0, fmt.Errorf("count plan: %w", err)
	}
	planned := 0
	for rows.Next() {
		var action string
		var n int
		if err := rows.Scan(&action, &n); err != nil {
			rows.Close()
			return c, 0, fmt.Errorf("count plan: %w", err)
		}
		planned += n
		switch action {
		case roster.ActionCreate:
			c.Created = n
		case roster.ActionUpdate:
			c.Updated = n
		case roster.ActionRestore:
			c.Restored = n
		case roster.ActionArchive:
			c.Archived = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, 0, fmt.Errorf("count plan: %w", err)
	}
	c.Unchanged = c.Rows - c.Failed - planned
	r.plannedCreates, r.plannedOthers = c.Created, planned-c.Created
	if r.mode == ModeFull {
		var missing int
		if err := r.tx.GetContext(ctx, &missing, `SELECT COUNT(*) FROM stage_missing`); err != nil {
			return c, 0, fmt.Errorf("count archives: %w", err)
		}
		c.Archived += missing
		r.missing = missing
	}
	return c, c.Archived, nil
}

// indexedUserColumns are the columns of users that an index of SQLite's
// has, or a partial index's condition names, among those a merge writes
// (see apply). source_hash has an index too, but a merged row's
// fingerprint is new: it is always written.
var indexedUserColumns = []string{"id_key", "business_email", "manager", "status", "archived_at"}

// applySlice is how many lines of the file one apply statement writes.
const applySlice = 20000

// apply writes the plan: one plain INSERT for the created users (nobody can
// have taken their ids meanwhile: the import holds the organisation, and a
// clash would only fail the whole import, to be run again), one merge
// statement for every updated, restored and archived row, and in a full sync
// one statement archiving the users missing from the file. Unchanged rows are
// written to nobody.
func (r *run) apply(ctx context.Context) error {
	now := r.p.Now
	data := append(append([]string{}, plainColumns...), localizedColumns...)
	var set []string
	for _, c := range append(data, "id_key", "status", "archived_at", "row_hash", "source_hash", "search", "updated_at") {
		set = append(set, c+" = excluded."+c)
	}
	// insertWith writes the plan's rows as users, with more columns (and
	// their values) after the common ones.
	insertWith := func(cols, vals string) string {
		return `INSERT INTO users (org_id, external_id, id_key, ` + strings.Join(data, ", ") + `, status, archived_at, row_hash, source_hash, search, created_at, updated_at` + cols + `)
		SELECT ?, p.external_id, p.id_key, p.` + strings.Join(data, ", p.") + `, p.status, p.archived_at, p.row_hash, p.source_hash, p.search, ?, ?` + vals + `
		FROM ` + validPlan
	}
	insert := insertWith("", "")
	var last int64
	if err := r.tx.GetContext(ctx, &last, `SELECT COALESCE(MAX(line), 0) FROM stage_plan`); err != nil {
		return fmt.Errorf("apply changes: %w", err)
	}
	create := insert
	if journalOn {
		// A created user's row is its journal entry (store.ChangeCreations).
		create = insertWith(", created_import_seq, created_line", ", "+strconv.FormatInt(r.im.Seq, 10)+", p.line")
	}
	type statement struct {
		q     string
		rows  int  // at most; a merge's are the plan's other rows
		merge bool // of those, whatever an earlier merge statement left
	}
	others := ` WHERE p.action <> '` + roster.ActionCreate + `' AND p.line > ? AND p.line <= ?`
	merges := []statement{{insert + others + ` ON CONFLICT (org_id, external_id) DO UPDATE SET ` + strings.Join(set, ", "), r.plannedOthers, true}}
	if r.db.Dialect == store.SQLite {
		// SQLite rewrites every index that has a column the SET names,
		// whether its value changed or not: seven for every merged user.
		// Most merges (a rename, a new department) leave the indexed
		// columns as they were, so those are merged first with a SET that
		// leaves them out; only source_hash's index is rewritten for them.
		// 10,000 renames of a million users: 0.34–0.43 s instead of
		// 0.80–0.90 s in the sqlite3 shell. (PostgreSQL compares the
		// values itself: its renames are HOT updates, migration 00022.)
		var narrow []string
		for _, c := range set {
			if col, _, _ := strings.Cut(c, " "); !slices.Contains(indexedUserColumns, col) {
				narrow = append(narrow, c)
			}
		}
		same := `EXISTS (SELECT 1 FROM users u WHERE u.org_id = ` + strconv.FormatInt(r.org.ID, 10) + ` AND u.external_id = p.external_id
			AND u.id_key = p.id_key AND u.business_email = p.business_email AND u.manager = p.manager
			AND u.status = p.status AND u.archived_at IS p.archived_at)`
		merges = []statement{
			{insert + others + ` AND ` + same + ` ON CONFLICT (org_id, external_id) DO UPDATE SET ` + strings.Join(narrow, ", "), r.plannedOthers, true},
			{insert + others + ` AND NOT ` + same + ` ON CONFLICT (org_id, external_id) DO UPDATE SET ` + strings.Join(set, ", "), r.plannedOthers, true},
		}
	}
	merged := 0
	for _, st := range append([]statement{
		{create + ` WHERE p.action = '` + roster.ActionCreate + `' AND p.line > ? AND p.line <= ?`, r.plannedCreates, false}}, merges...) {
		if st.merge {
			st.rows -= merged
		}
		// In slices of the file, so that the progress of a large save
		// moves (one statement of a million rows would show nothing for
		// half a minute); line is stage_plan's key, so each slice is a
		// range of it. Rows that fit in one slice, wherever they are in
		// the file (the ten thousand changed rows of a million-row sync),
		// are one statement, not one per slice of the file.
		slice := int64(applySlice)
		if st.rows <= applySlice {
			slice = last
		}
		for lo := int64(0); st.rows > 0 && lo < last; lo += slice {
			n, err := r.execCount(ctx, "apply changes", st.q, r.org.ID, now, now, lo, lo+slice)
			if err != nil {
				return err
			}
			r.saved(n)
			if st.merge {
				merged += int(n)
			}
		}
	}
	// A valid row that changed nothing records its fingerprint (once), so
	// that the next sync skips it; the user's data and updated_at stay.
	distinct := "IS DISTINCT FROM"
	if r.db.Dialect == store.SQLite {
		distinct = "IS NOT"
	}
	// Those rows are the unchanged ones that were not skipped as known: in
	// a first import or an identical re-sync there are none, and the join
	// over a million rows to find none is not run.
	if r.mode != ModeRevert && r.im.Unchanged > r.skippedValid {
		if err := r.exec(ctx, "record fingerprints", `UPDATE users SET source_hash = s.fp FROM stage_rows s
		WHERE users.org_id = ? AND users.external_id = s.external_id AND s.failed = 0 AND s.skip = 0
		AND users.source_hash `+distinct+` s.fp
		AND NOT EXISTS (SELECT 1 FROM stage_plan p WHERE p.line = s.line)`, r.org.ID); err != nil {
			return err
		}
	}
	if r.missing > 0 {
		// Archived for being missing: no row describes them any more.
		n, err := r.execCount(ctx, "archive missing users", `UPDATE users SET status = 'archived', archived_at = ?, source_hash = NULL, updated_at = ?
			WHERE id IN (SELECT id FROM stage_missing)`, now, now)
		if err != nil {
			return err
		}
		r.saved(n)
	}
	if r.mode == ModeRevert {
		if err := r.markReverted(ctx); err != nil {
			return err
		}
	}
	return r.refreshStatistics(ctx)
}

// refreshStatistics keeps PostgreSQL's statistics of users up to date after
// an import that rewrote much of the roster. They are what autovacuum last
// saw, which after a first import of a million users is "no rows": the
// next sync, moments later, planned its checks as joins over a tiny users
// table and read it whole three times (a 1%-changed sync of a million rows
// spent 9 s in checks, 4 s of it in the manager check alone). ANALYZE runs
// in the import's transaction, samples a bounded number of rows whatever
// the table's size (0.2–0.3 s at a million) and commits with them. SQLite
// plans by its indexes and needs none of this.
func (r *run) refreshStatistics(ctx context.Context) error {
	written := r.im.Created + r.im.Updated + r.im.Restored + r.im.Archived
	if r.db.Dialect != store.Postgres || written < minAnalyzeRows {
		return nil
	}
	active, err := r.activeUsers(ctx)
	if err != nil {
		return err
	}
	if written*10 < active {
		return nil
	}
	if _, err := r.tx.ExecContext(ctx, `ANALYZE users`); err != nil {
		return fmt.Errorf("analyze users: %w", err)
	}
	return nil
}

// minAnalyzeRows is the fewest rows an import writes before it refreshes
// the statistics of users: below it, stale statistics cannot make a plan
// costly.
const minAnalyzeRows = 10000
