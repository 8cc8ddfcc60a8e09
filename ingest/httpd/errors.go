package httpd

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// errorBody is every JSON error of the door.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// busyRetryAfter is the Retry-After, in seconds, of a 503 for ErrBusy: an
// import of the organisation is being applied, which takes seconds.
const busyRetryAfter = "5"

// errorStatus maps a service error to its HTTP status and the text the
// client may see: the door's one mapping (STYLE §2). Unknown errors are 500
// with a generic text; the caller logs the real one.
func errorStatus(err error) (int, errorBody) {
	var (
		wrong    *importer.WrongStateError
		invalid  *importer.ValidationError
		tooLarge *importer.TooLargeError
		maxBytes *http.MaxBytesError
	)
	switch {
	case errors.As(err, &invalid):
		return http.StatusBadRequest, errorBody{Error: invalid.Text, Field: invalid.Field}
	case errors.As(err, &wrong):
		return http.StatusConflict, errorBody{Error: wrong.Text}
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, errorBody{Error: tooLarge.Error(), Field: "file"}
	case errors.As(err, &maxBytes):
		return http.StatusRequestEntityTooLarge, errorBody{Field: "file",
			Error: fmt.Sprintf("the upload is larger than the %s limit", store.FormatBytes(maxBytes.Limit))}
	case errors.Is(err, importer.ErrNotFound):
		return http.StatusNotFound, errorBody{Error: err.Error()}
	case errors.Is(err, importer.ErrBusy):
		return http.StatusServiceUnavailable, errorBody{Error: "an import of the organisation is being applied; try again in a few seconds"}
	default:
		return http.StatusInternalServerError, errorBody{Error: "internal error; it was logged, tell support the time of the request"}
	}
}

// respondError answers err as JSON through errorStatus, logging what the
// client does not see.
func (h *Handler) respondError(c *gin.Context, err error) {
	status, body := errorStatus(err)
	switch {
	case status >= 500 && status != http.StatusServiceUnavailable:
		h.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "error", err)
	case status == http.StatusServiceUnavailable:
		c.Header("Retry-After", busyRetryAfter)
	}
	c.AbortWithStatusJSON(status, body)
}

// respondJSONError answers a door-level error (no service involved).
func respondJSONError(c *gin.Context, status int, text, field string) {
	c.AbortWithStatusJSON(status, errorBody{Error: text, Field: field})
}
