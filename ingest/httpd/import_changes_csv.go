package httpd

import (
	"github.com/gin-gonic/gin"
)

// importChangesCSV is GET /api/v1/imports/{id}/changes.csv: the import's
// journal as the change-list CSV of SPEC §5.1 (UTF-8 with a BOM, one row
// per change and per changed field, formula-safe), as the attachment
// "<id>-changes.csv", or "<id>-<kind>.csv" with ?kind=; ?q= narrows it as
// on the page.
func (h *Handler) importChangesCSV(c *gin.Context) {
	p := changesParams(c)
	name := p.ID + "-changes.csv"
	if p.Kind != "" {
		name = p.ID + "-" + p.Kind + ".csv" // the service refuses an unknown kind before the first byte
	}
	d := &csvDownload{c: c, name: name}
	h.finishDownload(d, h.svc.ImportChangesCSV(c.Request.Context(), p, d))
}
