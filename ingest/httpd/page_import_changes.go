package httpd

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// changesOnPage is how many entries of each kind an import's page shows at
// a time; the next ones are a "Next page" link away, all of them in the
// kind's CSV.
const changesOnPage = 50

// changesSection is the journal part of an import's page: the changes
// grouped by kind with their counts, each kind paged on its own (?<kind>=
// carries its cursor, so paging one kind leaves the others where they
// are), narrowed by a search (?q=).
type changesSection struct {
	ImportID string
	Q        string
	// Preview: a dry run or held sync, whose journal says what the import
	// would do; Would: it never will (cancelled or superseded).
	Preview, Would bool
	Heading        string
	Kinds          []kindSection // the kinds with entries (matching Q), in store.ChangeKinds order
	Total          int           // entries of every kind matching Q
	// Expired is when the journal was deleted (journal_retention).
	Expired *time.Time
	// ArchivesAbove: a held sync's page lists whom it would archive above
	// (with their e-mail and the approval), so this section does not again.
	ArchivesAbove bool
}

// kindSection is one kind's page of entries.
type kindSection struct {
	Kind, Title string
	Count       int
	Rows        []changeRow
	Later       bool   // a page after the first
	First, Next string // links to the kind's first and next page ("" when none)
	CSV         string // the kind's change-list CSV (with the search, if any)
}

// changeRow is one entry as the page lists it.
type changeRow struct {
	ExternalID, Href, Name string
	Line                   int64
	Fields                 []store.FieldChange
	Messages, Warnings     []string
}

// kindTitles name each kind's list, as done and as a preview.
var kindTitles = map[string][2]string{
	store.ChangeFailed:   {"Failed", "Would fail"},
	store.ChangeCreated:  {"Created", "Would create"},
	store.ChangeUpdated:  {"Updated", "Would update"},
	store.ChangeArchived: {"Archived", "Would archive"},
	store.ChangeRestored: {"Restored", "Would restore"},
}

// importChangesSection reads the page of each kind the request asks for.
// A cursor the service refuses is dropped (that kind starts over) and
// its reason returned with the section, for the page to show.
func (h *Handler) importChangesSection(c *gin.Context, im *store.Import) (*changesSection, *importer.ValidationError, error) {
	s := &changesSection{ImportID: im.ID, Q: strings.TrimSpace(c.Query("q")), Expired: im.JournalExpiredAt}
	switch {
	case im.DryRun || im.Status == store.ImportHeld:
		s.Preview, s.Heading = true, "What this import would do"
	case im.Status == store.ImportCancelled || im.Status == store.ImportSuperseded:
		s.Preview, s.Would, s.Heading = true, true, "What this import would have done"
	default:
		s.Heading = "Changes"
	}
	if im.Reverts != "" {
		s.Heading = strings.Replace(s.Heading, "this import", "this revert", 1)
	}
	if s.Expired != nil {
		return s, nil, nil
	}
	var refused *importer.ValidationError
	var counts map[string]int
	for _, kind := range store.ChangeKinds {
		if counts != nil && counts[kind] == 0 {
			continue
		}
		if kind == store.ChangeArchived && im.Status == store.ImportHeld {
			s.ArchivesAbove = true
			continue
		}
		cursor := c.Query(kind)
		p := importer.ImportChangesParams{OrgID: im.OrgID, ID: im.ID, Kind: kind, Query: s.Q, Limit: changesOnPage}
		if cursor != "" {
			raw, err := decodeCursor(cursor)
			if err != nil {
				refused, cursor = err, ""
			}
			p.Cursor = raw
		}
		page, err := h.svc.ImportChanges(c.Request.Context(), p)
		var invalid *importer.ValidationError
		if errors.As(err, &invalid) && invalid.Field == "cursor" {
			refused, cursor, p.Cursor = invalid, "", ""
			page, err = h.svc.ImportChanges(c.Request.Context(), p)
		}
		if errors.As(err, &invalid) {
			return s, invalid, nil // the search itself (q) was refused
		}
		if err != nil {
			return nil, nil, err
		}
		counts = page.Counts
		if counts[kind] == 0 && len(page.Items) == 0 {
			continue
		}
		k := kindSection{Kind: kind, Title: kindTitles[kind][0], Count: counts[kind], Later: cursor != "",
			CSV: "/api/v1/imports/" + url.PathEscape(im.ID) + "/changes.csv" + pageQuery(url.Values{"kind": {kind}, "q": {s.Q}})}
		if s.Preview {
			k.Title = kindTitles[kind][1]
		}
		if k.Later {
			k.First = changesLink(c, kind, "")
		}
		if page.NextCursor != "" {
			k.Next = changesLink(c, kind, encodeCursor(page.NextCursor))
		}
		for i := range page.Items {
			k.Rows = append(k.Rows, newChangeRow(&page.Items[i], s.Preview))
		}
		s.Kinds = append(s.Kinds, k)
	}
	for _, k := range store.ChangeKinds {
		s.Total += counts[k]
	}
	return s, refused, nil
}

// newChangeRow is one entry as the page lists it. The id links to the
// user's page when there is one: not for a failed row, nor for a user a
// preview would create.
func newChangeRow(ch *store.Change, preview bool) changeRow {
	r := changeRow{ExternalID: ch.ExternalID, Name: strings.TrimSpace(ch.FirstName + " " + ch.LastName), Line: ch.Line,
		Fields: ch.Fields(), Messages: ch.Messages(), Warnings: ch.Warnings()}
	if ch.Kind != store.ChangeFailed && !(preview && ch.Kind == store.ChangeCreated) {
		r.Href = userHref(ch.ExternalID)
	}
	return r
}

// changesLink is this page's address with kind's cursor set to cursor
// ("": its first page) and every other parameter kept, pointing at the
// kind's list.
func changesLink(c *gin.Context, kind, cursor string) string {
	q := url.Values{}
	for k, v := range c.Request.URL.Query() {
		if len(v) > 0 && v[0] != "" && (k == "q" || store.IsChangeKind(k)) {
			q.Set(k, v[0])
		}
	}
	if cursor == "" {
		q.Del(kind)
	} else {
		q.Set(kind, cursor)
	}
	return c.Request.URL.Path + pageQuery(q) + "#changes-" + kind
}

// pageQuery is "?"+q encoded, leaving out empty values; "" when none is left.
func pageQuery(q url.Values) string {
	for k, v := range q {
		if len(v) == 0 || v[0] == "" {
			delete(q, k)
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}
