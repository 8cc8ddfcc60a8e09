package importer

import (
	"context"
	"io"
	"slices"

	"rosterd/csvfile"
	"rosterd/roster"
	"rosterd/store"
)

// exportPage is how many users one query of the export reads.
const exportPage = 1000

// ExportParams selects what ExportCSV writes.
type ExportParams struct {
	Org    *store.Org
	Status string // "" (all), store.StatusActive or store.StatusArchived
}

// ExportCSV writes the roster in the template's format (SPEC §5.4): `;`,
// every column any exported user has a value for, then archived_at and
// status. It re-imports as it is as a full roster with every row unchanged:
// values are the normalised ones, and archived_at is written in the
// organisation's time zone, the zone the importer reads it in. It reads the
// users twice, a page at a time (once to find the columns, once to write),
// so an export of any size streams.
func ExportCSV(ctx context.Context, q store.Querier, p ExportParams, w io.Writer) error {
	usedPlain := map[string]bool{}
	usedLang := map[string]map[string]bool{}
	err := eachUser(ctx, q, p, func(u *store.User) {
		for c, v := range u.Plain {
			if v != "" {
				usedPlain[c] = true
			}
		}
		for c, m := range u.Localized {
			for lang := range m {
				if usedLang[c] == nil {
					usedLang[c] = map[string]bool{}
				}
				usedLang[c][lang] = true
			}
		}
	})
	if err != nil {
		return err
	}
	type col struct{ plain, base, lang string }
	cols := []col{}
	header := []string{roster.ColExternalID}
	for _, c := range roster.PlainColumns() {
		if usedPlain[c] {
			cols = append(cols, col{plain: c})
			header = append(header, c)
		}
	}
	for _, c := range roster.LocalizedColumns() {
		langs := make([]string, 0, len(usedLang[c]))
		for l := range usedLang[c] {
			langs = append(langs, l)
		}
		slices.Sort(langs)
		for _, l := range langs {
			cols = append(cols, col{base: c, lang: l})
			header = append(header, c+"_"+l)
		}
	}
	header = append(header, roster.ColArchivedAt, roster.ColStatus)

	out := csvfile.NewExportWriter(w)
	out.Row(header)
	loc := p.Org.Location()
	cells := make([]string, len(header))
	err = eachUser(ctx, q, p, func(u *store.User) {
		cells = cells[:0]
		cells = append(cells, u.ExternalID)
		for _, c := range cols {
			if c.plain != "" {
				cells = append(cells, u.Plain[c.plain])
			} else {
				cells = append(cells, u.Localized[c.base][c.lang])
			}
		}
		at := ""
		if u.ArchivedAt != nil {
			at = u.ArchivedAt.In(loc).Format("2006-01-02 15:04:05")
		}
		out.Row(append(cells, at, u.Status))
	})
	if err != nil {
		return err
	}
	return out.Flush()
}

func eachUser(ctx context.Context, q store.Querier, p ExportParams, fn func(*store.User)) error {
	after := ""
	for {
		page, err := store.UserList(ctx, q, store.UserListParams{OrgID: p.Org.ID, Status: p.Status, Limit: exportPage, After: after})
		if err != nil {
			return err
		}
		for _, u := range page {
			fn(u)
		}
		if len(page) < exportPage {
			return nil
		}
		after = page[len(page)-1].ExternalID
	}
}
