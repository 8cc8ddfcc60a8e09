package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// importCancel is POST /api/v1/imports/{id}/cancel: a queued, held or
// processing import is cancelled; 409 once it has ended.
func (h *Handler) importCancel(c *gin.Context) {
	im, err := h.svc.ImportCancel(c.Request.Context(), importRef(c))
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, h.importView(c, im))
}
