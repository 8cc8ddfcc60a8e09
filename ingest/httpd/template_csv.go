package httpd

import (
	"io"

	"github.com/gin-gonic/gin"

	"rosterd/roster"
)

// templateCSV is GET /api/v1/template.csv: the bytes `rosterd template`
// prints, as the attachment "template.csv".
func (h *Handler) templateCSV(c *gin.Context) {
	attachment(c, "template.csv", "")
	_, _ = io.WriteString(c.Writer, roster.TemplateCSV())
}
