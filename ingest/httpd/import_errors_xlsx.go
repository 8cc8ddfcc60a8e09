package httpd

import (
	"io"

	"github.com/gin-gonic/gin"
)

// importErrorsXLSX is GET /api/v1/imports/{id}/errors.xlsx: for a workbook
// upload, the failed rows as uploaded plus an errors column in a workbook
// that re-uploads as it is, as the attachment "<id>.xlsx" (SPEC §4.2); 404
// when no row failed or the upload was a CSV (its errors.csv serves it).
func (h *Handler) importErrorsXLSX(c *gin.Context) {
	ref := importRef(c)
	r, err := h.svc.ImportErrorsXLSX(c.Request.Context(), ref)
	if err != nil {
		h.respondError(c, err)
		return
	}
	d := &csvDownload{c: c, name: ref.ID + ".xlsx", ctype: xlsxType}
	_, err = io.Copy(d, r)
	h.finishDownload(d, err)
}
