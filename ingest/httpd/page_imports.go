package httpd

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// importStatuses are the statuses of SPEC §4.1, in the order an import
// goes through them: the history's filter.
var importStatuses = []string{store.ImportQueued, store.ImportProcessing, store.ImportSucceeded,
	store.ImportCompletedWithErrors, store.ImportFailed, store.ImportHeld, store.ImportSuperseded, store.ImportCancelled}

// importsPage is what the history shows.
type importsPage struct {
	Items    []importRow
	Status   string   // the filter; "" for all
	Statuses []string // the filter's choices
	Limit    string   // ?limit=, kept from page to page
	Cursor   string   // the page shown ("" for the newest)
	Next     string   // the next page's cursor; "" at the end
	// Held is the newest held sync, called out above the list (unless the
	// list shows only held ones); MoreHeld says there are others.
	Held     *importRow
	MoreHeld bool
}

// importRow is one import in a list, with its door in words.
type importRow struct {
	ImportView
	DoorText string
}

func (h *Handler) importRow(c *gin.Context, im *store.Import) importRow {
	return importRow{ImportView: h.importView(c, im), DoorText: store.DoorName(im.Door)}
}

// pageImports is GET /imports: the history, newest first, filtered by
// status, a page at a time (the API's cursor); a held sync is called out
// above the list, since it waits for the admin.
func (h *Handler) pageImports(c *gin.Context) {
	org := callerOrg(c)
	status := c.Query("status")
	// A bad filter, limit or cursor is said above the filter, which stays
	// usable; the bad value is not carried into the next request.
	invalid := func(err error) bool {
		var bad *importer.ValidationError
		if !errors.As(err, &bad) {
			return false
		}
		data := importsPage{Statuses: importStatuses, Status: status, Limit: c.Query("limit")}
		switch bad.Field {
		case "status":
			data.Status = ""
		case "limit":
			data.Limit = ""
		}
		h.render(c, http.StatusBadRequest, "imports", page{Title: "Imports", Nav: "imports", Error: bad.Error(), Field: bad.Field, Data: data})
		return true
	}
	limit, cursor, err := queryPage(c)
	if err != nil {
		if !invalid(err) {
			h.pageError(c, err)
		}
		return
	}
	list, err := h.svc.ImportList(c.Request.Context(), importer.ImportListParams{OrgID: org.ID,
		Status: status, Limit: limit, Cursor: cursor})
	if err != nil {
		if !invalid(err) {
			h.pageError(c, err)
		}
		return
	}
	data := importsPage{Status: status, Statuses: importStatuses, Limit: c.Query("limit"), Cursor: c.Query("cursor")}
	if next := newList(list.Items, list.NextCursor).NextCursor; next != nil { // the API's opaque cursor
		data.Next = *next
	}
	for i := range list.Items {
		data.Items = append(data.Items, h.importRow(c, &list.Items[i]))
	}
	if status != store.ImportHeld {
		held, err := h.svc.ImportList(c.Request.Context(), importer.ImportListParams{OrgID: org.ID, Status: store.ImportHeld, Limit: 1})
		if err != nil {
			h.pageError(c, err)
			return
		}
		if len(held.Items) > 0 {
			r := h.importRow(c, &held.Items[0])
			data.Held, data.MoreHeld = &r, held.NextCursor != ""
		}
	}
	h.render(c, http.StatusOK, "imports", page{Title: "Imports", Nav: "imports", Data: data})
}
