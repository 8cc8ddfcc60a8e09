package httpd

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// formSlack is what a form may add around its file: boundaries, part
// headers, the dry_run field.
const formSlack = 64 << 10

// importUpload is POST /api/v1/imports: a multipart form with `file` and
// `dry_run` (acceptUpload), answered 202 with the import and its Location.
func (h *Handler) importUpload(c *gin.Context) {
	im, err := h.acceptUpload(c, store.DoorAPI)
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.Header("Location", "/api/v1/imports/"+im.ID)
	c.JSON(http.StatusAccepted, h.importView(c, im))
}

// acceptUpload reads an upload form part by part as it arrives (never
// FormFile, which spools the whole file) and records it as a partial import
// of the caller's organisation through door. The file part streams straight
// into the service while dry_run may still follow it; so the import is
// accepted with its job held back (UploadHold) and released with the final
// dry_run once the form is complete (importer.Service.ImportRelease). The
// last dry_run wins. Until the form is complete an import whose dry_run is
// not known yet is stored as a dry run: should the daemon die before
// releasing it, the held-back job runs it as one, which changes nothing (the
// client never got an answer). On error nothing of the upload will run, and
// a client that leaves before the release commits — even one net/http has
// not noticed yet (clientGone) — gets nothing run: a client that retries
// then makes one import, not two.
func (h *Handler) acceptUpload(c *gin.Context, door string) (*store.Import, error) {
	org := callerOrg(c)
	ctx := c.Request.Context()
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, h.cfg.MaxUploadBytes+formSlack)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, &importer.ValidationError{Field: "file", Text: "send a multipart/form-data body with the CSV in a part named file"}
	}
	var (
		im         *store.Import
		dryRun     bool
		dryRunSeen bool
	)
	fail := func(err error) (*store.Import, error) {
		if im != nil { // accepted, but the request did not complete: nothing of it may run
			if _, cerr := h.svc.ImportCancel(context.WithoutCancel(ctx), importer.ImportRef{OrgID: org.ID, ID: im.ID, Actor: callerActor(c)}); cerr != nil {
				h.log.Warn("could not cancel the import of an incomplete upload", "import_id", im.ID, "org_id", im.OrgID, "error", cerr)
			}
		}
		return nil, h.uploadError(err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		switch part.FormName() {
		case "dry_run":
			if dryRun, err = readBool(part, "dry_run"); err != nil {
				return fail(err)
			}
			dryRunSeen = true
		case "file":
			if im != nil {
				return fail(&importer.ValidationError{Field: "file", Text: "send one file per upload"})
			}
			body := bufio.NewReaderSize(part, 64<<10)
			if _, err := body.Peek(1); errors.Is(err, io.EOF) {
				if part.FileName() == "" {
					return fail(&importer.ValidationError{Field: "file", Text: "no file was chosen: choose a CSV file to upload"})
				}
				return fail(&importer.ValidationError{Field: "file", Text: "the file is empty; choose a CSV file with a header line and rows"})
			}
			im, err = h.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: org.ID, Door: door,
				Mode: importer.ModePartial, DryRun: dryRun || !dryRunSeen, FileName: part.FileName(), File: body,
				MaxBytes: h.cfg.MaxUploadBytes, Delay: h.cfg.UploadHold, Actor: callerActor(c)})
			if err != nil {
				im = nil
				return fail(err)
			}
		default: // unknown fields are ignored, as browsers send submit buttons
			if _, err := io.Copy(io.Discard, part); err != nil {
				return fail(err)
			}
		}
	}
	if im == nil {
		return nil, &importer.ValidationError{Field: "file", Text: "no file was sent: add the CSV as a form part named file"}
	}
	// Read the body to its end (the multipart epilogue): only then does
	// net/http watch the connection and cancel ctx if the client leaves
	// while the release waits for the database.
	if _, err := io.Copy(io.Discard, c.Request.Body); err != nil {
		return fail(err)
	}
	released, err := h.svc.ImportRelease(ctx, importer.ImportReleaseParams{OrgID: org.ID, ID: im.ID, DryRun: dryRun,
		Gone: func() bool { return clientGone(ctx) }})
	if err != nil { // the client went away, or the database failed: no answer, so nothing may run
		return fail(err)
	}
	return released, nil
}

// uploadError turns a body past MaxBytesReader into the upload limit the
// client set out to respect (the form's slack is ours, not theirs).
func (h *Handler) uploadError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return &store.TooLargeError{Limit: h.cfg.MaxUploadBytes}
	}
	var tl *store.TooLargeError
	var invalid *importer.ValidationError
	if errors.As(err, &tl) || errors.As(err, &invalid) || errors.Is(err, importer.ErrNotFound) || errors.Is(err, importer.ErrBusy) {
		return err
	}
	var header textproto.ProtocolError // a part's header with NUL or a bad line
	if strings.Contains(err.Error(), "multipart") || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &header) {
		return &importer.ValidationError{Field: "file", Text: "the upload was cut off or is not a valid multipart form; send it again"}
	}
	return err
}

// readBool reads a small form field: true or false (also 1/0, an HTML
// checkbox's "on", empty for false).
func readBool(part io.Reader, field string) (bool, error) {
	b, err := io.ReadAll(io.LimitReader(part, 32))
	if err != nil {
		return false, err
	}
	s := strings.TrimSpace(string(b))
	switch s {
	case "":
		return false, nil
	case "on": // an HTML checkbox
		return true, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, &importer.ValidationError{Field: field, Text: "use true or false, got " + strconv.Quote(string(b))}
	}
	return v, nil
}
