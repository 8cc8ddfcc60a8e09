package httpd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// staticAsset is one embedded static file with its validator.
type staticAsset struct {
	body  []byte
	etag  string // a strong ETag: the content's hash
	ctype string
}

// staticAssets are the embedded static files by name, read once at start.
// Their hash is their version: the pages link them as /static/NAME?v=HASH
// (staticURL), which may be cached for a year; a plain /static/NAME for an
// hour. Both answer If-None-Match with 304.
type staticAssets map[string]staticAsset

func loadStatic() (staticAssets, error) {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	out := staticAssets{}
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(name))
		switch path.Ext(name) {
		case ".ico":
			ctype = "image/x-icon"
		case ".svg":
			ctype = "image/svg+xml"
		}
		out[name] = staticAsset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ctype}
		return nil
	})
	return out, err
}

// url is the versioned address of a static file, for the pages.
func (s staticAssets) url(name string) string {
	a, ok := s[name]
	if !ok {
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + strings.Trim(a.etag, `"`)
}

// serve answers GET /static/NAME (and /favicon.ico, name favicon.ico).
func (s staticAssets) serve(c *gin.Context, name string) {
	a, ok := s[name]
	if !ok {
		c.Status(http.StatusNotFound)
		return
	}
	hdr := c.Writer.Header()
	hdr.Set("ETag", a.etag)
	if v := c.Query("v"); v != "" && `"`+v+`"` == a.etag {
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hdr.Set("Cache-Control", "public, max-age=3600")
	}
	hdr.Set("Content-Type", a.ctype)
	// ServeContent answers If-None-Match (304) and ranges; a zero time
	// sends no Last-Modified: the ETag is the validator.
	http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(a.body))
}

// headAsGet answers HEAD like GET on every route — pages, downloads, static
// files, the API — with the same status and headers and no body: net/http
// drops the body of a response to a HEAD request, and keeps the
// Content-Length a whole small body gives.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.Clone(r.Context())
			r.Method = http.MethodGet
		}
		next.ServeHTTP(w, r)
	})
}
