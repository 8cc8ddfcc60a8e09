package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// changesBody is an import's journal page: the list of every API list, plus
// counts, which SPEC §5.1 does not name — an addition of ours, so that a
// client can show "Failed (4)" beside each kind without paging through
// them. The counts are per kind and of the entries that match ?q= (all of
// them without one), whatever ?kind= keeps.
type changesBody struct {
	listBody[ChangeView]
	Counts map[string]int `json:"counts"`
}

// importChanges is GET /api/v1/imports/{id}/changes: what the import did
// (or, for a dry run or held sync, would do), ?kind= ?q= ?limit= ?cursor=.
func (h *Handler) importChanges(c *gin.Context) {
	p := changesParams(c)
	var err error
	if p.Limit, p.Cursor, err = queryPage(c); err != nil {
		h.respondError(c, err)
		return
	}
	page, err := h.svc.ImportChanges(c.Request.Context(), p)
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, changesBody{listBody: newList(NewChangeViews(page.Items), page.NextCursor), Counts: kindCounts(page.Counts)})
}

// changesParams reads the import and ?kind= ?q= of a journal request.
func changesParams(c *gin.Context) importer.ImportChangesParams {
	ref := importRef(c)
	return importer.ImportChangesParams{OrgID: ref.OrgID, ID: ref.ID, Kind: c.Query("kind"), Query: c.Query("q")}
}

// kindCounts is counts with every kind present (0 when none).
func kindCounts(counts map[string]int) map[string]int {
	out := make(map[string]int, len(store.ChangeKinds))
	for _, k := range store.ChangeKinds {
		out[k] = counts[k]
	}
	return out
}
