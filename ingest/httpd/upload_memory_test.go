package httpd_test

import (
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// rowsReader generates CSV rows up to n bytes without holding them.
type rowsReader struct {
	left int64
	line []byte
	off  int
}

func (r *rowsReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		c := copy(p[n:], r.line[r.off:])
		if int64(c) > r.left {
			c = int(r.left)
		}
		n += c
		r.left -= int64(c)
		r.off = (r.off + c) % len(r.line)
	}
	return n, nil
}

// An upload streams: refusing one past the limit (413, the limit in the
// message, nothing recorded) the door never holds more than a sliver of it
// in memory, however large it is.
func TestAPIUploadPastLimitStreams(t *testing.T) {
	const limit, size = 32 << 20, 48 << 20
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, limit)
		pr, pw := io.Pipe()
		form := multipart.NewWriter(pw)
		go func() {
			part, err := form.CreateFormFile("file", "big.csv")
			if err == nil {
				_, err = io.Copy(part, io.MultiReader(strings.NewReader(header),
					&rowsReader{left: size, line: []byte("E1;Ann;Smith;BE;nl;ann@example.com;Sales;Verkoop;\n")}))
			}
			if err == nil {
				err = form.Close()
			}
			pw.CloseWithError(err)
		}()

		// Collect garbage early, so that heap in use tracks what the door
		// holds rather than what the collector has not reclaimed yet.
		defer debug.SetGCPercent(debug.SetGCPercent(10))
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		}()
		res := e.do("POST", "/api/v1/imports", e.token, pr, "Content-Type", form.FormDataContentType())
		close(stop)
		<-sampled
		wantError(t, "upload past the limit", res, http.StatusRequestEntityTooLarge, "file", "32 MiB limit")
		growth := int64(peak.Load()) - int64(base.HeapInuse)
		t.Logf("heap in use grew by at most %.1f MiB for a %d MiB upload", float64(growth)/(1<<20), size>>20)
		if growth > 12<<20 {
			t.Fatalf("heap grew by %d MiB during a %d MiB upload: the door is not streaming", growth>>20, size>>20)
		}
		page, err := e.svc.ImportList(context.Background(), importer.ImportListParams{OrgID: e.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		var files int
		if err := db.GetContext(context.Background(), &files, `SELECT COUNT(*) FROM files`); err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 0 || files != 0 {
			t.Fatalf("a refused upload left %d imports and %d files", len(page.Items), files)
		}
	})
}
