package httpd

import (
	"io"

	"github.com/gin-gonic/gin"
)

// importErrorsCSV is GET /api/v1/imports/{id}/errors.csv: the failed rows
// as uploaded plus an errors column, as the attachment "<id>.csv"; 404 when
// no row failed.
func (h *Handler) importErrorsCSV(c *gin.Context) {
	ref := importRef(c)
	r, err := h.svc.ImportErrorsCSV(c.Request.Context(), ref)
	if err != nil {
		h.respondError(c, err)
		return
	}
	d := &csvDownload{c: c, name: ref.ID + ".csv"}
	_, err = io.Copy(d, r)
	h.finishDownload(d, err)
}
