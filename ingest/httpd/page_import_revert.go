package httpd

import (
	"fmt"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// revertSection is what an import's page says of reverting (the partial
// templates/partials/revert.html): the revert it is or that put it back,
// and the button that previews its revert.
type revertSection struct {
	// Reverts is the import this one puts back (a revert), RevertedBy the
	// revert that put this one back; "" for none.
	Reverts    string
	RevertedBy string
	// Preview: this is a dry run of a revert, a preview with "Revert now".
	Preview bool
	// CanRevert: the import may be reverted (importer.RevertRefusal).
	CanRevert bool
}

func newRevertSection(im *store.Import) *revertSection {
	return &revertSection{Reverts: im.Reverts, RevertedBy: im.RevertedBy,
		Preview:   im.DryRun && im.Reverts != "" && (im.Status == store.ImportSucceeded || im.Status == store.ImportCompletedWithErrors),
		CanRevert: importer.RevertRefusal(im) == ""}
}

// pageImportRevert is POST /imports/{id}/revert: with dry_run=true ("Revert
// this import") a preview of the revert, whose page says what it would do
// and offers "Revert now"; without, the revert itself (ImportRevert). Either
// way the page of the new import follows it.
func (h *Handler) pageImportRevert(c *gin.Context) {
	dryRun, err := revertDryRun(c)
	if err != nil {
		h.importActionError(c, err)
		return
	}
	ref := importRef(c)
	im, err := h.svc.ImportRevert(c.Request.Context(), importer.ImportRevertParams{OrgID: ref.OrgID, ID: ref.ID, DryRun: dryRun, Actor: ref.Actor})
	if err != nil {
		h.importActionError(c, err)
		return
	}
	done := fmt.Sprintf("Reverting import %s: it puts back what that import changed, unless changed since.", ref.ID)
	if dryRun {
		done = fmt.Sprintf("Preview of the revert of import %s: nothing is changed until you choose Revert now.", ref.ID)
	}
	redirect(c, "/imports/"+im.ID, done)
}
