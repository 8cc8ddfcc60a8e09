package httpd

import (
	"github.com/gin-gonic/gin"
)

// importArchiveCSV is GET /api/v1/imports/{id}/archive.csv: whom a held
// sync would archive, as the attachment "<id>-archive.csv"; 404 unless held.
func (h *Handler) importArchiveCSV(c *gin.Context) {
	ref := importRef(c)
	d := &csvDownload{c: c, name: ref.ID + "-archive.csv"}
	h.finishDownload(d, h.svc.ImportArchiveCSV(c.Request.Context(), ref, d))
}
