package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// userShow is GET /api/v1/users/{external_id}: one user with every field.
func (h *Handler) userShow(c *gin.Context) {
	u, err := h.svc.UserGet(c.Request.Context(), userRef(c))
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewUserView(u))
}
