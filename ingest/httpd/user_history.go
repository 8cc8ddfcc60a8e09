package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
)

// userHistory is GET /api/v1/users/{external_id}/history: what imports and
// admins did to the user, newest first (previews are not history),
// ?limit= ?cursor=.
func (h *Handler) userHistory(c *gin.Context) {
	limit, cursor, err := queryPage(c)
	if err != nil {
		h.respondError(c, err)
		return
	}
	ref := userRef(c)
	page, err := h.svc.UserHistory(c.Request.Context(), importer.UserHistoryParams{OrgID: ref.OrgID, ExternalID: ref.ExternalID,
		Limit: limit, Cursor: cursor})
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(NewChangeViews(page.Items), page.NextCursor))
}
