package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// importShow is GET /api/v1/imports/{id}.
func (h *Handler) importShow(c *gin.Context) {
	im, err := h.svc.ImportGet(c.Request.Context(), importRef(c))
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, h.importView(c, im))
}
