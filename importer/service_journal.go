package importer

import (
	"cmp"
	"context"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"rosterd/csvfile"
	"rosterd/store"
)

// ImportChangesParams selects a page of an import's journal (SPEC §4.4).
type ImportChangesParams struct {
	OrgID int64
	ID    string
	// Kind keeps one kind (store.ChangeKinds); "" lists every kind, failed
	// first, each in file order.
	Kind string
	// Query keeps the entries whose external id or name contains it,
	// case ignored; "" keeps all.
	Query  string
	Cursor string // NextCursor of the previous page; "" for the first
	Limit  int    // 1–100, as every list of the API; 0: 50
}

// ChangePage is one page of journal entries.
type ChangePage struct {
	Items      []store.Change
	NextCursor string // "" at the end
	// Counts are the import's entries per kind that match the query (all
	// of them without one); nil for a user's history.
	Counts map[string]int
}

// ImportChanges reads a page of what an import did, or as a preview would
// do. Each page is an index range per kind, so the first page of a
// million-entry import answers as fast as that of ten. Errors: ErrNotFound
// (another organisation's import too), *ValidationError (kind, limit,
// cursor).
func (s *Service) ImportChanges(ctx context.Context, p ImportChangesParams) (*ChangePage, error) {
	im, err := s.ImportGet(ctx, ImportRef{OrgID: p.OrgID, ID: p.ID})
	if err != nil {
		return nil, err
	}
	if err := checkKind(p.Kind); err != nil {
		return nil, err
	}
	if p.Limit < 0 || p.Limit > 100 {
		return nil, invalid("limit", "%d is not a page size; use 1 to 100", p.Limit)
	}
	if !utf8.ValidString(p.Query) || strings.ContainsRune(p.Query, 0) {
		return nil, invalid("q", "the search must be text (UTF-8, no NUL)")
	}
	after, err := parseChangeCursor(p.Cursor, p.Kind)
	if err != nil {
		return nil, err
	}
	limit := cmp.Or(p.Limit, 50)
	list, err := store.ChangeList(ctx, s.db, store.ChangeListParams{OrgID: p.OrgID, ImportID: im.ID, Kind: p.Kind,
		Q: p.Query, After: after, Limit: limit + 1})
	if err != nil {
		return nil, err
	}
	page := &ChangePage{Items: list}
	if len(list) > limit {
		page.Items = list[:limit]
		last := list[limit-1]
		page.NextCursor = last.Kind + "." + strconv.FormatInt(last.Pos, 10)
	}
	page.Counts, err = s.changeCounts(ctx, im, p.Query)
	if err != nil {
		return nil, err
	}
	return page, nil
}

// changeCounts counts an import's entries per kind. Without a search they
// are the import's own counts (its journal holds one entry per counted
// change), so a million-entry import is not counted again.
func (s *Service) changeCounts(ctx context.Context, im *store.Import, q string) (map[string]int, error) {
	counts := map[string]int{}
	if q == "" && im.Status != store.ImportProcessing && im.Status != store.ImportQueued && im.JournalExpiredAt == nil {
		c := im.Counts
		counts[store.ChangeFailed], counts[store.ChangeCreated], counts[store.ChangeUpdated] = c.Failed, c.Created, c.Updated
		counts[store.ChangeArchived], counts[store.ChangeRestored] = c.Archived, c.Restored
		return counts, nil
	}
	found, err := store.ChangeCounts(ctx, s.db, im.OrgID, im.ID, q)
	if err != nil {
		return nil, err
	}
	for _, k := range store.ChangeKinds {
		counts[k] = found[k]
	}
	return counts, nil
}

func checkKind(kind string) error {
	if kind != "" && !store.IsChangeKind(kind) {
		return invalid("kind", "%q is not a kind of change; use %s", kind, strings.Join(store.ChangeKinds, ", "))
	}
	return nil
}

// parseChangeCursor reads a NextCursor: "<kind>.<entry pos>" (store.Change.Pos).
func parseChangeCursor(c, kind string) (store.ChangeCursor, error) {
	if c == "" {
		return store.ChangeCursor{}, nil
	}
	k, id, ok := strings.Cut(c, ".")
	n, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil || n <= 0 || !store.IsChangeKind(k) || (kind != "" && k != kind) {
		return store.ChangeCursor{}, invalid("cursor", "%q is not a cursor of this list; pass next_cursor as the previous page gave it", c)
	}
	return store.ChangeCursor{Kind: k, ID: n}, nil
}

// ChangesCSVHeader is the header of a change list as CSV (SPEC §5.1).
var ChangesCSVHeader = []string{"kind", "external_id", "first_name", "last_name", "line", "column", "old", "new", "messages"}

// ImportChangesCSV writes an import's journal (of one kind, or every kind)
// as the change-list CSV of SPEC §5.1: UTF-8 with a BOM, one row per change
// and one per changed field of an update, every cell formula-safe. It
// streams, a page at a time. Errors: as ImportChanges.
func (s *Service) ImportChangesCSV(ctx context.Context, p ImportChangesParams, w io.Writer) error {
	im, err := s.ImportGet(ctx, ImportRef{OrgID: p.OrgID, ID: p.ID})
	if err != nil {
		return err
	}
	if err := checkKind(p.Kind); err != nil {
		return err
	}
	cw := csvfile.NewExportWriter(w)
	cw.Row(ChangesCSVHeader)
	var after store.ChangeCursor
	for {
		list, err := store.ChangeList(ctx, s.db, store.ChangeListParams{OrgID: p.OrgID, ImportID: im.ID, Kind: p.Kind,
			Q: p.Query, After: after, Limit: 1000})
		if err != nil {
			return err
		}
		for i := range list {
			for _, row := range ChangeRows(&list[i]) {
				for j := range row {
					row[j] = csvfile.FormulaSafe(row[j])
				}
				cw.Row(row)
			}
		}
		if len(list) < 1000 {
			break
		}
		last := list[len(list)-1]
		after = store.ChangeCursor{Kind: last.Kind, ID: last.Pos}
	}
	return cw.Flush()
}

// ChangeRows are one entry's rows of the change-list CSV (ChangesCSVHeader),
// not yet formula-safe: one per changed field of an update, else one.
func ChangeRows(c *store.Change) [][]string {
	line := ""
	if c.Line > 0 {
		line = strconv.FormatInt(c.Line, 10)
	}
	base := []string{c.Kind, c.ExternalID, c.FirstName, c.LastName, line}
	msgs := strings.Join(c.Messages(), " | ")
	fields := c.Fields()
	if len(fields) == 0 {
		return [][]string{append(base, "", "", "", msgs)}
	}
	rows := make([][]string, 0, len(fields))
	for _, f := range fields {
		rows = append(rows, append(append([]string{}, base...), f.Column, f.Old, f.New, msgs))
	}
	return rows
}

// UserHistoryParams selects a page of one user's history.
type UserHistoryParams struct {
	OrgID      int64
	ExternalID string
	Cursor     string // NextCursor of the previous page; "" for the first
	Limit      int    // 1–100; 0: 50
}

// UserHistory reads what imports and admins did to one user, newest first:
// applied entries and manual ones (a preview is not history). Errors:
// ErrNotFound (no such user in the organisation), *ValidationError.
func (s *Service) UserHistory(ctx context.Context, p UserHistoryParams) (*ChangePage, error) {
	if _, err := s.UserGet(ctx, UserRef{OrgID: p.OrgID, ExternalID: p.ExternalID}); err != nil {
		return nil, err
	}
	if p.Limit < 0 || p.Limit > 100 {
		return nil, invalid("limit", "%d is not a page size; use 1 to 100", p.Limit)
	}
	var before int64
	if p.Cursor != "" {
		n, err := strconv.ParseInt(p.Cursor, 10, 64)
		if err != nil || n <= 0 {
			return nil, invalid("cursor", "%q is not a cursor of this list; pass next_cursor as the previous page gave it", p.Cursor)
		}
		before = n
	}
	limit := cmp.Or(p.Limit, 50)
	list, err := store.UserHistory(ctx, s.db, store.UserHistoryParams{OrgID: p.OrgID, ExternalID: p.ExternalID,
		Before: before, Limit: limit + 1})
	if err != nil {
		return nil, err
	}
	page := &ChangePage{Items: list}
	if len(list) > limit {
		page.Items = list[:limit]
		page.NextCursor = strconv.FormatInt(list[limit-1].ID, 10)
	}
	return page, nil
}
