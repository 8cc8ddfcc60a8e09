package httpd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
)

// checkInput refuses, before any handler reaches the database, a request
// whose path parameters or query hold a NUL byte or bytes that are not
// UTF-8 (importer.TextProblem): PostgreSQL refuses such text, which used to
// surface as a 500 logged at ERROR. An id in the path is 404 (no id holds
// such bytes), a query value 400 naming its parameter. Bodies are checked by
// smallForm, uploads' file names by the service.
func (h *Handler) checkInput(c *gin.Context) {
	for _, p := range c.Params {
		if why := importer.TextProblem(p.Value); why != "" {
			h.refuseInput(c, http.StatusNotFound, p.Key, fmt.Sprintf(
				"not found: the %s in the path %s, which no %s does; ids are UTF-8 text without NUL", p.Key, why, p.Key))
			return
		}
	}
	q := c.Request.URL.Query()
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if why := importer.TextProblem(k); why != "" {
			h.refuseInput(c, http.StatusBadRequest, "", "a parameter name of the query "+why+"; "+percentHint)
			return
		}
		for _, v := range q[k] {
			if why := importer.TextProblem(v); why != "" {
				h.refuseInput(c, http.StatusBadRequest, k, k+" "+why+"; "+percentHint)
				return
			}
		}
	}
	c.Next()
}

// percentHint says what a query or form value may hold.
const percentHint = "send UTF-8 text without NUL (%00), each byte of a character percent-encoded (é is %C3%A9)"

// refuseInput answers a client's bad input: a page for a browser, JSON for
// a script. It logs at most a debug line: the mistake is the client's.
func (h *Handler) refuseInput(c *gin.Context, status int, field, text string) {
	h.log.Debug("request refused", "method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "field", field, "reason", text)
	if wantsHTML(c) {
		title := "Not found"
		if status == http.StatusBadRequest {
			title = "Not valid"
		}
		h.render(c, status, "error", page{Title: title, Data: text})
		c.Abort()
		return
	}
	respondJSONError(c, status, text, field)
}

// smallForm bounds the body of the pages' small forms (sign-in, settings,
// approve, archive …) and of the API's JSON bodies (sign-in, settings,
// revert): Gin's PostForm would otherwise spool any size of multipart body
// to disk, before anyone signed in. It then checks the body's strings as
// checkInput checks the query: a form value, or a JSON string or key,
// holding NUL or bytes that are not UTF-8 is 400 naming its field, and a
// JSON body with anything after its value is 400 (a client that sent two
// objects, or a stray character, learns that only the first would count).
// A body it cannot read or parse is left to the handler, which says what
// it expected.
func (h *Handler) smallForm(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, smallFormBytes)
	ct := c.ContentType()
	switch {
	case ct == "application/x-www-form-urlencoded":
		if err := c.Request.ParseForm(); err == nil {
			if field, why := formProblem(c.Request.PostForm); why != "" {
				h.refuseInput(c, http.StatusBadRequest, field, why)
				return
			}
		}
	case ct == "multipart/form-data":
		if err := c.Request.ParseMultipartForm(smallFormBytes); err == nil {
			if field, why := formProblem(c.Request.MultipartForm.Value); why != "" {
				h.refuseInput(c, http.StatusBadRequest, field, why)
				return
			}
		}
	default:
		body, err := io.ReadAll(c.Request.Body)
		// The handler reads the same bytes, and the same error after them.
		c.Request.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		if err != nil || len(bytes.TrimSpace(body)) == 0 {
			break
		}
		if field, why := jsonProblem(body); why != "" {
			h.refuseInput(c, http.StatusBadRequest, field, why)
			return
		}
	}
	c.Next()
}

// errReader ends a replayed body with the error its first read met (nil:
// io.EOF).
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err == nil {
		return 0, io.EOF
	}
	return 0, r.err
}

// formProblem is the first field of a form whose name or value holds NUL or
// bytes that are not UTF-8, and what is wrong with it.
func formProblem(form map[string][]string) (field, why string) {
	for _, k := range slices.Sorted(maps.Keys(form)) {
		if p := importer.TextProblem(k); p != "" {
			return "", "a field name of the form " + p + "; " + percentHint
		}
		for _, v := range form[k] {
			if p := importer.TextProblem(v); p != "" {
				return k, k + " " + p + "; " + percentHint
			}
		}
	}
	return "", ""
}

// jsonProblem is what keeps a JSON body from being read as the one value
// it should be: bytes that are not UTF-8, a string or key holding NUL
// (\u0000), or anything after the value. Field is the top-level key the
// bad string is under. A body that is not JSON at all is not its business
// ("", "").
func jsonProblem(body []byte) (field, why string) {
	if !utf8.Valid(body) {
		at := 0
		for at < len(body) {
			r, n := utf8.DecodeRune(body[at:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			at += n
		}
		return "", fmt.Sprintf("the body is not UTF-8 (byte %d is not part of a UTF-8 character); send JSON encoded as UTF-8", at)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", ""
	}
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
		at := len(body) - len(bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n"))
		return "", fmt.Sprintf("the body has more after its JSON value (at byte %d); send one JSON object and nothing after it", at)
	}
	if obj, ok := v.(map[string]any); ok {
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if strings.IndexByte(k, 0) >= 0 {
				return "", fmt.Sprintf("the key %q holds a NUL byte (\\u0000); send keys and strings without NUL", k)
			}
			if nulString(obj[k]) {
				return k, k + " holds a NUL byte (\\u0000); send strings without NUL"
			}
		}
		return "", ""
	}
	if nulString(v) {
		return "", "the body holds a NUL byte (\\u0000) in a string; send strings without NUL"
	}
	return "", ""
}

// nulString tells whether v, decoded JSON, holds a string or key with NUL.
func nulString(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.IndexByte(x, 0) >= 0
	case []any:
		return slices.ContainsFunc(x, nulString)
	case map[string]any:
		for k, e := range x {
			if strings.IndexByte(k, 0) >= 0 || nulString(e) {
				return true
			}
		}
	}
	return false
}
