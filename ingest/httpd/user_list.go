package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
)

// userList is GET /api/v1/users: ?q (name, e-mail, id; case and accents
// ignored) ?status ?limit ?cursor, by external id.
func (h *Handler) userList(c *gin.Context) {
	limit, cursor, err := queryPage(c)
	if err != nil {
		h.respondError(c, err)
		return
	}
	page, err := h.svc.UserList(c.Request.Context(), importer.UserListParams{OrgID: callerOrg(c).ID,
		Query: c.Query("q"), Status: c.Query("status"), Limit: limit, Cursor: cursor})
	if err != nil {
		h.respondError(c, err)
		return
	}
	views := make([]map[string]any, 0, len(page.Items))
	for _, u := range page.Items {
		views = append(views, NewUserView(u))
	}
	c.JSON(http.StatusOK, newList(views, page.NextCursor))
}
