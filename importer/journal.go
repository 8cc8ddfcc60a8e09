package importer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"rosterd/roster"
	"rosterd/store"
)

// The change journal (SPEC §4.4) is written by the run, in the transaction
// that applies the import, from what staging already holds: one INSERT …
// SELECT per kind of entry, never a round trip per row. The plan carries each
// updated row's changed fields (stage_plan.changes, worked out in Go where
// the row was merged); the checks left each failed row's messages in
// stage_errors; a full sync's missing users are in stage_missing. A dry run
// and a held sync write the same entries marked as a preview; when a held
// sync is applied, its applied entries replace its preview. An applied
// import's created entries are the rows of the users it created and one mark
// (store.ChangeCreations), not a row each.

// archivedAtLayout is how the journal writes archived_at: as the roster
// export does, on the organisation's wall clock, so an old value can be
// pasted into a file as it is.
const archivedAtLayout = "2006-01-02 15:04:05"

// FieldChanges lists the fields that differ between a stored user and what
// an import makes of them, named as a file's columns name them
// (department_en, archived_at), values as the roster export writes them.
// Status is not a field: it is the entry's kind (archived, restored).
func FieldChanges(was, now *roster.User, loc *time.Location) []store.FieldChange {
	var out []store.FieldChange
	for _, c := range plainColumns {
		if o, n := was.Plain[c], now.Plain[c]; o != n {
			out = append(out, store.FieldChange{Column: c, Old: o, New: n})
		}
	}
	for _, c := range localizedColumns {
		o, n := was.Localized[c], now.Localized[c]
		langs := slices.Sorted(maps.Keys(o))
		for l := range maps.Keys(n) {
			if _, ok := o[l]; !ok {
				langs = append(langs, l)
			}
		}
		slices.Sort(langs)
		for _, l := range langs {
			if o[l] != n[l] {
				out = append(out, store.FieldChange{Column: c + "_" + l, Old: o[l], New: n[l]})
			}
		}
	}
	if o, n := formatArchivedAt(was.ArchivedAt, loc), formatArchivedAt(now.ArchivedAt, loc); o != n {
		out = append(out, store.FieldChange{Column: roster.ColArchivedAt, Old: o, New: n})
	}
	return out
}

func formatArchivedAt(t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(archivedAtLayout)
}

// changeKindOf maps a plan's action to its journal kind, in SQL.
const changeKindOf = `CASE p.action WHEN '` + roster.ActionCreate + `' THEN '` + store.ChangeCreated + `'
	WHEN '` + roster.ActionUpdate + `' THEN '` + store.ChangeUpdated + `'
	WHEN '` + roster.ActionRestore + `' THEN '` + store.ChangeRestored + `'
	ELSE '` + store.ChangeArchived + `' END`

// journal records what the run does (or, as a preview, would do), in the
// import's transaction: every planned change, every failed row with its
// messages, and in a full sync every user archived for being missing. The
// import's earlier entries (the preview of a held sync now approved) are
// replaced.
func (r *run) journal(ctx context.Context, preview bool) error {
	if !journalOn {
		return nil
	}
	if err := store.ChangesForget(ctx, r.tx, r.im.ID); err != nil {
		return err
	}
	actor := r.im.Actor
	if r.im.ApprovedBy != "" {
		// An approved sync is applied on the approver's word.
		actor = r.im.ApprovedBy
	}
	head := `INSERT INTO changes (org_id, import_seq, kind, external_id, first_name, last_name, line, fields, messages, preview, actor, at) `
	args := []any{r.org.ID, r.im.Seq, preview, actor, r.p.Now}
	// A revert's entries have no line: it read no file.
	planLine, rowLine := "p.line", "k.line"
	if r.mode == ModeRevert {
		planLine, rowLine = "NULL", "NULL"
	}
	planned := validPlan
	if !preview {
		// The users it creates are their own entries (apply writes
		// created_import_seq and created_line in their rows); one mark
		// stands for them all, first, so that its id places them
		// before what the import does to others (store.ChangeCreations).
		planned += ` WHERE p.action <> '` + roster.ActionCreate + `'`
		if r.im.Created > 0 {
			if err := r.exec(ctx, "journal creations", head+`SELECT ?, ?, '`+store.ChangeCreations+`', '', '', '',
				COALESCE(MAX(id), 0), NULL, NULL, ?, ?, ? FROM users`, args...); err != nil {
				return err
			}
		}
	}
	// Planned changes, file order.
	if err := r.exec(ctx, "journal changes", head+`SELECT ?, ?, `+changeKindOf+`, p.external_id, p.first_name, p.last_name,
		`+planLine+`, p.changes, NULL, ?, ?, ? FROM `+planned+` ORDER BY p.line`, args...); err != nil {
		return err
	}
	if r.im.Failed > 0 {
		// The messages of a row, in the order the errors CSV joins them.
		messages := `(SELECT json_agg(e.message ORDER BY e.seq)::text FROM stage_errors e WHERE e.line = k.line)`
		if r.db.Dialect == store.SQLite {
			messages = `(SELECT json_group_array(e.message ORDER BY e.seq) FROM stage_errors e WHERE e.line = k.line)`
		}
		// The row's names as the file wrote them, else as stored.
		if err := r.exec(ctx, "journal failed rows", head+`SELECT ?, ?, '`+store.ChangeFailed+`', k.external_id,
			COALESCE(NULLIF(s.p_first_name, ''), u.first_name, ''), COALESCE(NULLIF(s.p_last_name, ''), u.last_name, ''),
			`+rowLine+`, NULL, `+messages+`, ?, ?, ?
			FROM stage_rows k LEFT JOIN stage_patch s ON s.line = k.line
			LEFT JOIN users u ON u.org_id = `+fmt.Sprint(r.org.ID)+` AND u.external_id = k.external_id AND k.external_id <> ''
			WHERE k.failed = 1 ORDER BY k.line`, args...); err != nil {
			return err
		}
	}
	if r.missing > 0 {
		// Missing from a full roster: no line describes them.
		if err := r.exec(ctx, "journal missing users", head+`SELECT ?, ?, '`+store.ChangeArchived+`', u.external_id,
			u.first_name, u.last_name, NULL, NULL, NULL, ?, ?, ?
			FROM stage_missing m JOIN users u ON u.id = m.id ORDER BY u.external_id`, args...); err != nil {
			return err
		}
	}
	return nil
}
