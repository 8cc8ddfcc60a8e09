package httpd

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// archiveListOnPage is how many of a held sync's archives its page lists;
// all of them are in its archive CSV.
const archiveListOnPage = 100

// importPage is what an import's page shows: while it waits or runs, how
// far it has got (the page follows it); once it has ended, its outcome.
type importPage struct {
	Import   ImportView
	DoorText string
	Live     bool   // queued or processing: the page refreshes itself
	Phase    string // what a live import is doing, in words
	Figures  string // how far the phase has got, in words
	Percent  int64  // of the phase, when it has a total
	// Determinate is whether the phase has a total: without one (checking;
	// reading a file of unknown size) the bar moves without a percentage.
	Determinate bool
	Read        string // bytes read, in words
	Size        string // the file's size, in words
	HeldReason  string // why a held sync is held, as a sentence
	// Archives is, for a held sync, whom approving it would archive (the
	// first archiveListOnPage); More is how many more the CSV has.
	Archives     []store.ArchiveEntry
	ArchiveTotal int
	More         int
	ConfirmError string // the approval was sent without ticking the box
	// Changes is what the import did, or would do, by kind (nil while it
	// waits or runs, and for a failed import, which applied nothing).
	Changes *changesSection
	// Refused is a search or page link of the changes the service refused
	// (the page shows the first pages instead, and says why).
	Refused *importer.ValidationError
	// Revert is the revert form or preview of the import (nil: none).
	Revert *revertSection
}

// pageImport is GET /imports/{id}: "your file is being processed" while it
// runs, then the import's outcome; for a held sync, whom it would archive
// and the approval.
func (h *Handler) pageImport(c *gin.Context) {
	data, err := h.importPage(c)
	if err != nil {
		h.pageError(c, err)
		return
	}
	if data.Refused != nil {
		h.renderImport(c, http.StatusBadRequest, data, page{Error: pageSentence(data.Refused.Error()), Field: data.Refused.Field})
		return
	}
	h.renderImport(c, http.StatusOK, data, page{})
}

func (h *Handler) importPage(c *gin.Context) (*importPage, error) {
	ref := importRef(c)
	im, err := h.svc.ImportGet(c.Request.Context(), ref)
	if err != nil {
		return nil, err
	}
	v := h.importView(c, im)
	d := &importPage{Import: v, DoorText: store.DoorName(im.Door), Read: store.FormatSize(v.Progress.BytesRead), Size: store.FormatSize(v.SizeBytes),
		Revert: newRevertSection(im)}
	switch im.Status {
	case store.ImportQueued, store.ImportProcessing:
		d.Live = true
		d.Phase = PhaseText(v.Progress)
		d.Figures, d.Percent, d.Determinate = PhaseFigures(v.Progress)
	case store.ImportHeld:
		list, err := h.svc.ImportArchiveList(c.Request.Context(), ref, archiveListOnPage)
		if err != nil {
			return nil, err
		}
		d.HeldReason = pageSentence(im.HoldReason)
		d.Archives, d.ArchiveTotal, d.More = list.Items, list.Total, list.Total-len(list.Items)
	}
	if !d.Live && im.Status != store.ImportFailed {
		if d.Changes, d.Refused, err = h.importChangesSection(c, im); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// renderImport shows an import's page; p carries a form's error, if any.
func (h *Handler) renderImport(c *gin.Context, status int, d *importPage, p page) {
	p.Nav, p.Data = "imports", d
	// A revert has no file of its own: its title names the import it puts back.
	reverts := ""
	if d.Import.Reverts != nil {
		reverts = *d.Import.Reverts
	}
	switch {
	case reverts != "" && d.Live:
		p.Title = "Reverting import " + reverts
	case reverts != "" && d.Import.DryRun:
		p.Title = "Preview of the revert of import " + reverts
	case reverts != "":
		p.Title = "Revert of import " + reverts
	case d.Live:
		p.Title = "Your file is being processed"
	case d.Import.FileName != "":
		p.Title = "Import of " + d.Import.FileName
	default:
		p.Title = "Import " + d.Import.ID
	}
	h.render(c, status, "import", p)
}

// PhaseText says what a queued or processing import is doing, in the words
// the page, import.js and the command line share.
func PhaseText(p Progress) string {
	switch p.Phase {
	case store.PhaseQueued:
		return "Waiting to start"
	case store.PhaseReading:
		return "Reading and checking the rows"
	case store.PhaseChecking:
		return "Checking the whole file against the roster"
	case store.PhaseSaving:
		return "Saving the changes"
	case store.PhaseFinishing:
		return "Recording the outcome and the e-mail"
	}
	return "Done"
}

// PhaseFigures says how far the phase has got and, when the phase has a
// total, the percentage of it (determinate true). Checking has no total
// (how many checks depends on the file), nor has reading a file of unknown
// size: a bar at 0% would say nothing is happening, so the page shows an
// indeterminate bar and no percentage (import.js and the command line say
// the same).
func PhaseFigures(p Progress) (figures string, percent int64, determinate bool) {
	pct := func(done, total int64) (int64, bool) {
		if total <= 0 {
			return 0, false
		}
		return min(100, done*100/total), true
	}
	switch p.Phase {
	case store.PhaseQueued:
		return fmt.Sprintf("%s to read", store.FormatSize(p.TotalBytes)), 0, true
	case store.PhaseReading:
		percent, determinate = pct(p.BytesRead, p.TotalBytes)
		return fmt.Sprintf("%s of %s read, %s rows", store.FormatSize(p.BytesRead), store.FormatSize(p.TotalBytes), store.FormatCount(p.RowsRead)), percent, determinate
	case store.PhaseChecking:
		checks := "checks"
		if p.Done == 1 {
			checks = "check"
		}
		return fmt.Sprintf("%s rows read; %s %s done", store.FormatCount(p.RowsRead), store.FormatCount(p.Done), checks), 0, false
	case store.PhaseSaving:
		percent, determinate = pct(p.Done, p.Total)
		return fmt.Sprintf("%s of %s users written", store.FormatCount(p.Done), store.FormatCount(p.Total)), percent, determinate
	case store.PhaseFinishing:
		return fmt.Sprintf("%s rows read", store.FormatCount(p.RowsRead)), 100, true
	}
	return "", 0, false
}

// pageImportApprove is POST /imports/{id}/approve: the held sync is queued
// again, as the API's approve does (ImportApprove). The service applies it
// only if it archives no one the page listed; otherwise it is held again
// with the new list. The box "I have checked the list" must be ticked.
func (h *Handler) pageImportApprove(c *gin.Context) {
	if c.PostForm("checked") != "true" {
		d, err := h.importPage(c)
		if err != nil {
			h.pageError(c, err)
			return
		}
		d.ConfirmError = "Tick “I have checked the list” to approve: approving archives the users listed."
		h.renderImport(c, http.StatusBadRequest, d, page{Field: "checked"})
		return
	}
	ref := importRef(c)
	if _, err := h.svc.ImportApprove(c.Request.Context(), importer.ImportApproveParams{OrgID: ref.OrgID, ID: ref.ID, Actor: ref.Actor}); err != nil {
		h.importActionError(c, err)
		return
	}
	redirect(c, "/imports/"+ref.ID, "Approved: the sync runs again against the roster as it is now and applies what the list showed; should it have to archive anyone not on the list, it is held again, with the new list.")
}

// pageImportCancel is POST /imports/{id}/cancel: a queued, processing or
// held import is cancelled (ImportCancel); nothing of it is applied.
func (h *Handler) pageImportCancel(c *gin.Context) {
	ref := importRef(c)
	if _, err := h.svc.ImportCancel(c.Request.Context(), ref); err != nil {
		h.importActionError(c, err)
		return
	}
	redirect(c, "/imports/"+ref.ID, "Cancelled: nothing of this import was applied.")
}

// importActionError shows a refused approve or cancel on the import's page
// as it is now (it may have ended or been superseded meanwhile), with the
// service's reason and its status.
func (h *Handler) importActionError(c *gin.Context, err error) {
	status, body := errorStatus(err)
	if status == http.StatusNotFound || status >= http.StatusInternalServerError {
		h.pageError(c, err)
		return
	}
	d, gerr := h.importPage(c)
	if gerr != nil {
		h.pageError(c, gerr)
		return
	}
	h.renderImport(c, status, d, page{Error: pageSentence(body.Error)})
}
