package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// userArchive is POST /api/v1/users/{external_id}/archive; 409 when the
// user is already archived.
func (h *Handler) userArchive(c *gin.Context) {
	u, err := h.svc.UserArchive(c.Request.Context(), userRef(c))
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewUserView(u))
}

// userRestore is POST /api/v1/users/{external_id}/restore; 409 when the
// user is not archived.
func (h *Handler) userRestore(c *gin.Context) {
	u, err := h.svc.UserRestore(c.Request.Context(), userRef(c))
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewUserView(u))
}
