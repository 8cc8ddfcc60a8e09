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
	"time"

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
// into storage while dry_run may still follow it: the file is staged
// (importer.Service.ImportStage), nothing recorded, and the import's fate —
// dry run or not — is decided once the form is complete (Commit), however
// long the rest of the form takes while it keeps arriving. The last
// dry_run wins. On error, and when the client leaves before the commit —
// even one net/http has not noticed yet (clientGone) — nothing is recorded
// and the stored bytes are removed: a client that retries then makes one
// import, not two.
func (h *Handler) acceptUpload(c *gin.Context, door string) (*store.Import, error) {
	began := time.Now()
	org := callerOrg(c)
	ctx := c.Request.Context()
	var staged *importer.StagedImport
	var received time.Time // when the file part was read whole
	// While the rest of the form arrives, the staged file is kept from
	// looking abandoned.
	c.Request.Body = &keepAliveBody{ReadCloser: http.MaxBytesReader(c.Writer, c.Request.Body, h.cfg.MaxUploadBytes+formSlack),
		alive: func() {
			if staged != nil {
				if err := staged.KeepAlive(ctx); err != nil {
					h.log.Debug("keep a staged upload alive", "org_id", org.ID, "error", err)
				}
			}
		}}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, &importer.ValidationError{Field: "file", Text: "send a multipart/form-data body with the CSV in a part named file"}
	}
	var dryRun bool
	fail := func(err error) (*store.Import, error) {
		if staged != nil { // stored, but the request did not complete: nothing of it may stay
			if derr := staged.Discard(ctx); derr != nil {
				h.log.Warn("could not remove the file of an incomplete upload", "org_id", org.ID, "error", derr)
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
		case "file":
			if staged != nil {
				return fail(&importer.ValidationError{Field: "file", Text: "send one file per upload"})
			}
			body := bufio.NewReaderSize(part, 64<<10)
			if _, err := body.Peek(1); errors.Is(err, io.EOF) {
				if part.FileName() == "" {
					return fail(&importer.ValidationError{Field: "file", Text: "no file was chosen: choose a CSV file to upload"})
				}
				return fail(&importer.ValidationError{Field: "file", Text: "the file is empty; choose a CSV file with a header line and rows"})
			}
			staged, err = h.svc.ImportStage(ctx, importer.ImportAcceptParams{OrgID: org.ID, Door: door,
				Mode: importer.ModePartial, FileName: part.FileName(), File: body,
				MaxBytes: h.cfg.MaxUploadBytes, Actor: callerActor(c)})
			if err != nil {
				staged = nil
				return fail(err)
			}
			received = time.Now()
			if h.cfg.FileReceived != nil {
				h.cfg.FileReceived(org.ID)
			}
		default: // unknown fields are ignored, as browsers send submit buttons
			if _, err := io.Copy(io.Discard, part); err != nil {
				return fail(err)
			}
		}
	}
	if staged == nil {
		return nil, &importer.ValidationError{Field: "file", Text: "no file was sent: add the CSV as a form part named file"}
	}
	// Read the body to its end (the multipart epilogue): only then does
	// net/http watch the connection and cancel ctx if the client leaves
	// while the commit waits for the database.
	if _, err := io.Copy(io.Discard, c.Request.Body); err != nil {
		return fail(err)
	}
	ended := time.Now()
	im, err := staged.Commit(ctx, importer.StagedCommitParams{DryRun: dryRun, Gone: func() bool { return clientGone(ctx) }})
	if err != nil { // the client went away, or the database failed: nothing was recorded
		return nil, h.uploadError(err)
	}
	// Where an upload's answer waited, for an operator whose clients find
	// it slow: authenticating the caller (the token's query and its wait
	// for a pooled connection), reading the file (and storing its full
	// chunks), the rest of the form, then the commit (on SQLite mostly the
	// wait for the write turn, which imports being applied hold).
	var auth time.Duration
	if t, ok := c.Get(authStartKey); ok {
		auth = began.Sub(t.(time.Time))
	}
	h.log.Debug("upload committed", "import_id", im.ID, "org_id", org.ID, "auth", auth.Round(time.Millisecond),
		"file", received.Sub(began).Round(time.Millisecond), "form_rest", ended.Sub(received).Round(time.Millisecond),
		"commit", time.Since(ended).Round(time.Millisecond))
	return im, nil
}

// keepAliveBody is a request body that calls alive after each read that
// brought bytes.
type keepAliveBody struct {
	io.ReadCloser
	alive func()
}

func (b *keepAliveBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.alive()
	}
	return n, err
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
	// A client that left: no one reads the answer, and it is not the
	// daemon's fault (logged at most as a client's mistake). A part's
	// header with NUL or a bad line is the client's mistake too.
	var header textproto.ProtocolError
	if strings.Contains(err.Error(), "multipart") || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &header) ||
		errors.Is(err, importer.ErrClientGone) || errors.Is(err, context.Canceled) {
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
