package httpd

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// Every typed error of the service answers its own status, once, here; an
// unknown error answers 500 without its text.
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.ReleaseMode)
	cases := []struct {
		name       string
		err        error
		status     int
		field      string
		text       string // in the error message
		retryAfter bool
	}{
		{"not found", fmt.Errorf("import imp_1: %w", importer.ErrNotFound), 404, "", "import imp_1", false},
		{"wrong state", fmt.Errorf("approve: %w", &importer.WrongStateError{What: "import imp_1", Status: "succeeded", Text: "import imp_1 is succeeded"}), 409, "", "is succeeded", false},
		{"validation", &importer.ValidationError{Field: "limit", Text: "must be from 1 to 100"}, 400, "limit", "must be from 1 to 100", false},
		{"too large", &store.TooLargeError{Limit: 1 << 20}, 413, "file", "1 MiB limit", false},
		{"body too large", fmt.Errorf("store file: %w", &http.MaxBytesError{Limit: 2 << 20}), 413, "file", "2 MiB limit", false},
		{"busy", fmt.Errorf("archive: %w", importer.ErrBusy), 503, "", "try again", true},
		{"other", errors.New("pq: password authentication failed for secret host"), 500, "", "internal error", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logged strings.Builder
			h := &Handler{log: slog.New(slog.NewTextHandler(&logged, nil))}
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequest("GET", "/api/v1/x", nil)
			h.respondError(c, tc.err)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d", rec.Code, tc.status)
			}
			body := rec.Body.String()
			if !strings.Contains(body, tc.text) || (tc.field != "" && !strings.Contains(body, `"field":"`+tc.field+`"`)) {
				t.Fatalf("body = %s, want %q and field %q", body, tc.text, tc.field)
			}
			if got := rec.Header().Get("Retry-After") != ""; got != tc.retryAfter {
				t.Fatalf("Retry-After = %q", rec.Header().Get("Retry-After"))
			}
			if tc.status == 500 {
				if strings.Contains(body, "secret") {
					t.Fatalf("500 leaks the error: %s", body)
				}
				if !strings.Contains(logged.String(), "secret host") {
					t.Fatalf("500 not logged: %q", logged.String())
				}
			}
		})
	}
}
