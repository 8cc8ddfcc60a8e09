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

// historyOnPage is how many of a user's journal entries their page shows
// at a time, newest first; older ones are a link away.
const historyOnPage = 50

// historySection is a user's history on their page: what each import or
// admin did to them, newest first (SPEC §4.4; previews are not history).
type historySection struct {
	Entries []historyEntry
	Later   bool   // a page after the first
	First   string // link back to the newest entries ("" on the first page)
	Older   string // link to the next, older entries ("" at the end)
}

// historyEntry is one entry as the user's page shows it.
type historyEntry struct {
	At       time.Time
	Kind     string // store.Change* kind
	Title    string // the kind in words
	Actor    string
	ImportID string // "" for a manual action: "by hand"
	Line     int64
	Fields   []store.FieldChange
	Messages []string
}

// historyTitles name each kind of entry on a user's page.
var historyTitles = map[string]string{
	store.ChangeFailed: "Failed", store.ChangeCreated: "Created", store.ChangeUpdated: "Updated",
	store.ChangeArchived: "Archived", store.ChangeRestored: "Restored",
}

// userHistorySection reads the page of the user's history ?history= asks
// for. A cursor the service refuses is dropped (the newest entries are
// shown) and its reason returned, for the page to show.
func (h *Handler) userHistorySection(c *gin.Context, externalID string) (*historySection, *importer.ValidationError, error) {
	ref := userRef(c)
	p := importer.UserHistoryParams{OrgID: ref.OrgID, ExternalID: externalID, Limit: historyOnPage}
	var refused *importer.ValidationError
	if raw := c.Query("history"); raw != "" {
		cur, err := decodeCursor(raw)
		if err != nil {
			refused = err
		}
		p.Cursor = cur
	}
	page, err := h.svc.UserHistory(c.Request.Context(), p)
	var invalid *importer.ValidationError
	if errors.As(err, &invalid) && p.Cursor != "" {
		refused, p.Cursor = invalid, ""
		page, err = h.svc.UserHistory(c.Request.Context(), p)
	}
	if err != nil {
		return nil, nil, err
	}
	s := &historySection{Later: p.Cursor != ""}
	base := c.Request.URL.Path
	if s.Later {
		s.First = base + "#history"
	}
	if page.NextCursor != "" {
		s.Older = base + "?" + url.Values{"history": {encodeCursor(page.NextCursor)}}.Encode() + "#history"
	}
	for i := range page.Items {
		ch := &page.Items[i]
		s.Entries = append(s.Entries, historyEntry{At: ch.At, Kind: ch.Kind, Title: historyTitles[ch.Kind],
			Actor: strings.TrimSpace(ch.Actor), ImportID: ch.ImportID, Line: ch.Line, Fields: ch.Fields(), Messages: ch.Messages()})
	}
	return s, refused, nil
}
