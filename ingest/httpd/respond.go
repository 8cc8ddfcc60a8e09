package httpd

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// listBody is every list of the API: a page and where the next one starts.
type listBody[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"` // null at the end
}

// newList makes a list body; next is the service's cursor ("" at the end),
// handed out opaque (base64url) so clients do not build their own.
func newList[T any](items []T, next string) listBody[T] {
	b := listBody[T]{Items: items}
	if b.Items == nil {
		b.Items = []T{}
	}
	if next != "" {
		s := encodeCursor(next)
		b.NextCursor = &s
	}
	return b
}

// queryPage reads ?limit= and ?cursor=, the paging every list takes.
func queryPage(c *gin.Context) (limit int, cursor string, err error) {
	if limit, err = queryLimit(c); err != nil {
		return 0, "", err
	}
	cursor, err = queryCursor(c)
	return limit, cursor, err
}

// queryCursor reads ?cursor= back into the service's cursor.
func queryCursor(c *gin.Context) (string, error) {
	raw := c.Query("cursor")
	if raw == "" {
		return "", nil
	}
	s, err := decodeCursor(raw)
	if err != nil {
		return "", err
	}
	return s, nil
}

// encodeCursor hands a service's cursor out opaque (base64url).
func encodeCursor(next string) string { return base64.RawURLEncoding.EncodeToString([]byte(next)) }

// decodeCursor reads an encodeCursor back into the service's cursor.
func decodeCursor(raw string) (string, *importer.ValidationError) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	// A cursor the API gave out is UTF-8 without NUL; "AA" decodes to a
	// NUL byte, which PostgreSQL would refuse.
	if err != nil || len(b) == 0 || importer.TextProblem(string(b)) != "" {
		return "", &importer.ValidationError{Field: "cursor", Text: "is not a cursor this API gave out; pass next_cursor of the previous page as it is"}
	}
	return string(b), nil
}

// queryLimit reads ?limit= (0 when absent: the service's default).
func queryLimit(c *gin.Context) (int, error) {
	raw := c.Query("limit")
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return 0, &importer.ValidationError{Field: "limit", Text: fmt.Sprintf("must be a number from 1 to 100, got %q", raw)}
	}
	return n, nil
}

// importView is im as the API shows it.
func (h *Handler) importView(c *gin.Context, im *store.Import) ImportView {
	return NewImportView(im, callerOrg(c).Slug, h.cfg.PublicURL)
}

// importRef is the import the path names, in the caller's organisation.
func importRef(c *gin.Context) importer.ImportRef {
	return importer.ImportRef{OrgID: callerOrg(c).ID, ID: c.Param("id"), Actor: callerActor(c)}
}

// userRef is the user the path names, in the caller's organisation.
func userRef(c *gin.Context) importer.UserRef {
	return importer.UserRef{OrgID: callerOrg(c).ID, ExternalID: c.Param("external_id"), Actor: callerActor(c)}
}

// csvType is the Content-Type of every CSV download.
const csvType = "text/csv; charset=utf-8"

// xlsxType is the Content-Type of an .xlsx workbook, which browsers and
// spreadsheets open as one.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// attachment starts a download named name, of type ctype ("": CSV).
func attachment(c *gin.Context, name, ctype string) {
	if ctype == "" {
		ctype = csvType
	}
	c.Header("Content-Type", ctype)
	c.Header("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	c.Header("X-Content-Type-Options", "nosniff")
	c.Status(http.StatusOK)
}

// csvDownload is a CSV attachment (or, with ctype, another file's) whose
// headers are sent with its first byte, so that an error found before
// anything was written (not found, not held) still gets its own status.
type csvDownload struct {
	c       *gin.Context
	name    string
	ctype   string // "": CSV
	started bool
}

func (d *csvDownload) Write(p []byte) (int, error) {
	if !d.started {
		attachment(d.c, d.name, d.ctype)
		d.started = true
	}
	return d.c.Writer.Write(p)
}

// finish answers err if nothing was sent yet, or logs it: a download cut
// short cannot change its status any more.
func (h *Handler) finishDownload(d *csvDownload, err error) {
	switch {
	case err == nil && !d.started:
		attachment(d.c, d.name, d.ctype)
	case err != nil && !d.started:
		h.respondError(d.c, err)
	case err != nil:
		h.log.Error("download cut short", "path", d.c.Request.URL.Path, "error", err)
	}
}
