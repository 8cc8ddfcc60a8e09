package importer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"rosterd/csvfile"
	"rosterd/roster"
	"rosterd/store"
)

// ModeRevert is the mode of a revert (SPEC §3): an import that reads no file
// but the journal of the import it reverts. Doors never accept it for a
// file; Service.ImportRevert records it.
const ModeRevert Mode = "revert"

// A revert is an import like the others, run by Run: only its first step
// differs. Where an upload stages its file, a revert stages, in the
// import's transaction (so that nothing changes the roster between what it
// reads and what it applies), one row per user the reverted import touched
// (its applied journal entries), planned against the user as they are now:
//
//   - updated: each changed field back to its old value (action update);
//   - archived: restored, archived_at back to what it was (action restore);
//   - restored: archived again (action archive), archived_at back to what
//     it was, or now when the entry does not say;
//   - created: archived (never deleted).
//
// The rule for a later change is per user: when any field the entry changed
// has another value now than the one the import left (a later import or
// admin changed it), or a later applied entry archived or restored the user
// (or their status is not the one the import left), the user is not
// reverted at all: their row fails with a message naming the later change,
// and none of their fields is put back. Half a user reverted would mix two
// states nobody chose; the admin decides what to do with the whole user.
// Then the shared steps run unchanged: the cross-row checks (a field put
// back may clash with an e-mail another user took since, or close a loop of
// managers), the counts, the archive threshold (a revert of a large
// creation is held like a sync), the journal (the revert's entries, without
// a line), the apply (which marks the reverted import reverted_by this one)
// and the outcome. A revert has no errors CSV: its conflicts are its failed
// entries.

// revertPage is how many journal entries of the reverted import one step of
// planRevert reads, with their users and their later entries.
const revertPage = 1000

// planRevert stages the revert of the import r.im reverts (see above), in
// r.tx: stage_rows (line = the order of the entries, one per user),
// stage_plan and stage_errors, as a file's staging and plan would leave them.
func (r *run) planRevert(ctx context.Context) error {
	orig, err := store.ImportGet(ctx, r.tx, r.org.ID, r.im.Reverts)
	if err != nil {
		return csvfile.Fatalf(0, "the import this revert puts back, %s, is not found", r.im.Reverts)
	}
	switch {
	case orig.RevertedBy != "" && orig.RevertedBy != r.im.ID:
		return csvfile.Fatalf(0, "import %s was reverted meanwhile by import %s; nothing was applied (revert %s to re-apply it)",
			orig.ID, orig.RevertedBy, orig.RevertedBy)
	case orig.JournalExpiredAt != nil:
		return csvfile.Fatalf(0, "the journal of import %s has expired (journal_retention); it can no longer be reverted", orig.ID)
	}
	rows := newBatchInserter(ctx, r.tx, r.db.Dialect, "stage_rows", stageRowColumns())
	plan := newBatchInserter(ctx, r.tx, r.db.Dialect, "stage_plan", planColumns())
	errs := newBatchInserter(ctx, r.tx, r.db.Dialect, "stage_errors", []string{"line", "seq", "message"})
	line := 0
	for _, kind := range []string{store.ChangeCreated, store.ChangeUpdated, store.ChangeArchived, store.ChangeRestored} {
		after := store.ChangeCursor{}
		for {
			page, err := store.ChangeList(ctx, r.tx, store.ChangeListParams{OrgID: r.org.ID, ImportID: orig.ID, Kind: kind,
				After: after, Limit: revertPage})
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			after = store.ChangeCursor{Kind: kind, ID: page[len(page)-1].Pos}
			// An applied import's entries are all applied (its preview was
			// replaced); a preview would put back what was never done.
			page = slices.DeleteFunc(page, func(c store.Change) bool { return c.Preview })
			if len(page) == 0 {
				continue
			}
			ids := make([]string, len(page))
			for i, c := range page {
				ids[i] = c.ExternalID
			}
			users, err := r.usersByExternalID(ctx, ids)
			if err != nil {
				return err
			}
			later, err := store.ChangesLater(ctx, r.tx, r.org.ID, page[0].ID, ids)
			if err != nil {
				return err
			}
			laterOf := map[string][]store.Change{}
			for _, c := range later {
				if c.ImportID != r.im.ID {
					laterOf[c.ExternalID] = append(laterOf[c.ExternalID], c)
				}
			}
			for _, c := range page {
				u := users[c.ExternalID]
				if u == nil {
					continue // users are never deleted; nothing to put back
				}
				var since []store.Change
				for _, l := range laterOf[c.ExternalID] {
					if l.ID > c.ID {
						since = append(since, l)
					}
				}
				line++
				merged, action, conflict := r.revertOne(&c, u, since)
				failed := conflict != ""
				if err := rows.Add(line, c.ExternalID, roster.IDKey(c.ExternalID), boolInt(failed), 0, nil); err != nil {
					return err
				}
				if failed {
					r.anyFailed = true
					r.seq++
					if err := errs.Add(line, r.seq, conflict); err != nil {
						return err
					}
					continue
				}
				if action == "" {
					continue // nothing to put back: unchanged
				}
				changed := store.EncodeFields(FieldChanges(&u.User, merged, r.loc))
				managerChanged := merged.Plain["manager"] != u.Plain["manager"] && merged.Plain["manager"] != ""
				sr := stagedRow{line: line, idKey: roster.IDKey(c.ExternalID)} // no fingerprint: the next sync looks at the user again
				if err := plan.Add(planValues(sr, merged, action, managerChanged, changed)...); err != nil {
					return err
				}
			}
			// On PostgreSQL a COPY must not be open while the next page is read.
			for _, b := range []*batchInserter{rows, plan, errs} {
				if err := b.Flush(); err != nil {
					return err
				}
			}
		}
	}
	r.im.RowsRead = int64(line)
	if r.p.Progress != nil {
		r.p.Progress(int64(line), 0)
	}
	if err := r.indexStaging(ctx, r.tx); err != nil {
		return err
	}
	return r.indexPlan(ctx)
}

// usersByExternalID reads the organisation's users of the given ids, as
// they are now, in r.tx.
func (r *run) usersByExternalID(ctx context.Context, ids []string) (map[string]*store.User, error) {
	m := make(map[string]*store.User, len(ids))
	if len(ids) == 0 {
		return m, nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, r.org.ID)
	for _, id := range ids {
		args = append(args, id)
	}
	q := `SELECT ` + store.UserColumns() + ` FROM users WHERE org_id = ? AND external_id IN (` +
		strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + `)`
	rows, err := r.tx.QueryContext(ctx, r.tx.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read the users to revert: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		u, err := store.ScanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("read the users to revert: %w", err)
		}
		m[u.ExternalID] = u
	}
	return m, rows.Err()
}

// revertOne plans the revert of one journal entry c on the user u as they
// are now, given the applied entries written for them since (since, oldest
// first). It returns the user as the revert leaves them and its action
// ("" when nothing is to be put back), or the conflict that keeps the user
// as they are.
func (r *run) revertOne(c *store.Change, u *store.User, since []store.Change) (merged *roster.User, action, conflict string) {
	// The status the import left, and the one the revert puts back.
	left, back := roster.StatusActive, roster.StatusArchived
	switch c.Kind {
	case store.ChangeCreated:
		action = roster.ActionArchive
	case store.ChangeUpdated:
		back, action = roster.StatusActive, roster.ActionUpdate
	case store.ChangeArchived:
		left, back, action = roster.StatusArchived, roster.StatusActive, roster.ActionRestore
	case store.ChangeRestored:
		action = roster.ActionArchive
	}
	// A later archive or restore, or a status not the one the import left.
	for i := len(since) - 1; i >= 0; i-- {
		if l := since[i]; l.Kind == store.ChangeArchived || l.Kind == store.ChangeRestored {
			return nil, "", fmt.Sprintf("%s since %s; it is kept", l.Kind, r.byWhom(&l))
		}
	}
	if u.Status != left {
		return nil, "", fmt.Sprintf("is %s now, not %s as import %s left them; it is kept", u.Status, left, c.ImportID)
	}
	merged = &roster.User{ExternalID: u.ExternalID, Status: back, ArchivedAt: u.ArchivedAt,
		Plain: maps.Clone(u.Plain), Localized: map[string]map[string]string{}}
	for k, v := range u.Localized {
		merged.Localized[k] = maps.Clone(v)
	}
	archivedAtBack := false
	for _, f := range c.Fields() {
		now := fieldValue(&u.User, f.Column, r.loc)
		if now != f.New {
			for i := len(since) - 1; i >= 0; i-- {
				for _, lf := range since[i].Fields() {
					if lf.Column == f.Column {
						return nil, "", fmt.Sprintf("%s was changed since %s; it is kept", f.Column, r.byWhom(&since[i]))
					}
				}
			}
			return nil, "", fmt.Sprintf("%s was changed since (it is %s, not %s as import %s left it); it is kept",
				f.Column, quote(now), quote(f.New), c.ImportID)
		}
		if f.Column == roster.ColArchivedAt {
			archivedAtBack = true
		}
		if err := setFieldValue(merged, f.Column, f.Old, r.loc); err != nil {
			return nil, "", fmt.Sprintf("%s cannot be put back to %s: %v", f.Column, quote(f.Old), err)
		}
	}
	switch {
	case archivedAtBack:
	case back == roster.StatusArchived:
		t := r.p.Now
		merged.ArchivedAt = &t
	case c.Kind == store.ChangeArchived:
		merged.ArchivedAt = nil
	}
	merged.FieldsHash = roster.FieldsHashOf(merged)
	if action == roster.ActionUpdate && len(FieldChanges(&u.User, merged, r.loc)) == 0 {
		return nil, "", ""
	}
	return merged, action, ""
}

// byWhom names a later journal entry for a conflict's message: "by import
// imp_… (ann@example.com, 2026-12-04 14:02)" or "by hand (bob@example.com, …)".
func (r *run) byWhom(c *store.Change) string {
	at := c.At.In(r.loc).Format("2006-01-02 15:04")
	if c.ImportID == "" {
		return fmt.Sprintf("by hand (%s, %s)", c.Actor, at)
	}
	if c.Actor == "" {
		return fmt.Sprintf("by import %s (%s)", c.ImportID, at)
	}
	return fmt.Sprintf("by import %s (%s, %s)", c.ImportID, c.Actor, at)
}

// fieldValue is a user's field as the journal names and writes it (see
// FieldChanges): a plain column, a localised column with its language
// (department_en), or archived_at.
func fieldValue(u *roster.User, column string, loc *time.Location) string {
	if column == roster.ColArchivedAt {
		return formatArchivedAt(u.ArchivedAt, loc)
	}
	if slices.Contains(plainColumns, column) {
		return u.Plain[column]
	}
	if c, lang, ok := localizedField(column); ok {
		return u.Localized[c][lang]
	}
	return ""
}

// setFieldValue puts a journal's value back into a user's field.
func setFieldValue(u *roster.User, column, value string, loc *time.Location) error {
	switch {
	case column == roster.ColArchivedAt:
		if value == "" {
			u.ArchivedAt = nil
			return nil
		}
		t, err := time.ParseInLocation(archivedAtLayout, value, loc)
		if err != nil {
			return err
		}
		t = t.UTC()
		u.ArchivedAt = &t
	case slices.Contains(plainColumns, column):
		if value == "" {
			delete(u.Plain, column)
		} else {
			u.Plain[column] = value
		}
	default:
		c, lang, ok := localizedField(column)
		if !ok {
			return fmt.Errorf("%s is not a column of the roster", column)
		}
		m := u.Localized[c]
		if m == nil {
			m = map[string]string{}
			u.Localized[c] = m
		}
		if value == "" {
			delete(m, lang)
		} else {
			m[lang] = value
		}
		if len(m) == 0 {
			delete(u.Localized, c)
		}
	}
	return nil
}

// localizedField splits department_en into the localised column and its language.
func localizedField(column string) (c, lang string, ok bool) {
	for _, lc := range localizedColumns {
		if l, found := strings.CutPrefix(column, lc+"_"); found && l != "" {
			return lc, l, true
		}
	}
	return "", "", false
}

// markReverted records, in the apply's transaction, that this revert put
// its import back: a compare-and-set, so two reverts of one import never
// both apply.
func (r *run) markReverted(ctx context.Context) error {
	n, err := r.execCount(ctx, "mark the import reverted", `UPDATE imports SET reverted_by = ? WHERE id = ? AND org_id = ? AND reverted_by = ''`,
		r.im.ID, r.im.Reverts, r.org.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return csvfile.Fatalf(0, "import %s was reverted meanwhile by another revert; nothing was applied", r.im.Reverts)
	}
	return nil
}
