package httpd

import (
	"github.com/gin-gonic/gin"

	"rosterd/importer"
)

// userExport is GET /api/v1/users.csv: the roster export (SPEC §5.4),
// streamed from one snapshot, re-importable as a full roster; ?status.
func (h *Handler) userExport(c *gin.Context) {
	org := callerOrg(c)
	d := &csvDownload{c: c, name: org.Slug + "-users.csv"}
	h.finishDownload(d, h.svc.UserExport(c.Request.Context(), importer.UserExportParams{OrgID: org.ID, Status: c.Query("status")}, d))
}
