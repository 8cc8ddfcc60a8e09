package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
)

// importList is GET /api/v1/imports: newest first, ?status ?limit ?cursor.
func (h *Handler) importList(c *gin.Context) {
	limit, cursor, err := queryPage(c)
	if err != nil {
		h.respondError(c, err)
		return
	}
	page, err := h.svc.ImportList(c.Request.Context(), importer.ImportListParams{OrgID: callerOrg(c).ID,
		Status: c.Query("status"), Limit: limit, Cursor: cursor})
	if err != nil {
		h.respondError(c, err)
		return
	}
	views := make([]ImportView, 0, len(page.Items))
	for i := range page.Items {
		views = append(views, h.importView(c, &page.Items[i]))
	}
	c.JSON(http.StatusOK, newList(views, page.NextCursor))
}
