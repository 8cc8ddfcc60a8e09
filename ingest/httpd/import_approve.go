package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
)

// importApprove is POST /api/v1/imports/{id}/approve: a held sync is queued
// again with its archives approved; 409 unless held.
func (h *Handler) importApprove(c *gin.Context) {
	ref := importRef(c)
	im, err := h.svc.ImportApprove(c.Request.Context(), importer.ImportApproveParams{OrgID: ref.OrgID, ID: ref.ID, Actor: ref.Actor})
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, h.importView(c, im))
}
