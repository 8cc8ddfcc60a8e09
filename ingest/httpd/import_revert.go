package httpd

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
)

// importRevert is POST /api/v1/imports/{id}/revert: a new import (door and
// mode revert) that puts back what the import changed, queued and answered
// 202 with the revert; dry_run (form field or JSON) previews it. 409 when
// the import cannot be reverted (the message says why).
func (h *Handler) importRevert(c *gin.Context) {
	dryRun, err := revertDryRun(c)
	if err != nil {
		h.respondError(c, err)
		return
	}
	ref := importRef(c)
	im, err := h.svc.ImportRevert(c.Request.Context(), importer.ImportRevertParams{OrgID: ref.OrgID, ID: ref.ID, DryRun: dryRun, Actor: ref.Actor})
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.Header("Location", "/api/v1/imports/"+im.ID)
	c.JSON(http.StatusAccepted, h.importView(c, im))
}

// revertDryRun reads dry_run from a JSON body ({"dry_run": true}) or a form
// (dry_run=true); absent, the revert is real.
func revertDryRun(c *gin.Context) (bool, error) {
	if strings.HasPrefix(c.ContentType(), "application/json") {
		var body struct {
			DryRun *bool `json:"dry_run"`
		}
		if err := c.ShouldBindJSON(&body); err != nil {
			return false, &importer.ValidationError{Field: "dry_run", Text: "the body is not the JSON expected (" + err.Error() + `); send {"dry_run": true} or {"dry_run": false}`}
		}
		return body.DryRun != nil && *body.DryRun, nil
	}
	s := c.PostForm("dry_run")
	if s == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, &importer.ValidationError{Field: "dry_run", Text: strconv.Quote(s) + " is not valid; use true or false"}
	}
	return v, nil
}
