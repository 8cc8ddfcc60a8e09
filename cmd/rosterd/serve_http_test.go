package main_test

import (
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"rosterd/store"
)

// httpAddr is where the daemon's ready line (text or JSON) says it listens.
func (d *daemon) httpAddr() string {
	d.t.Helper()
	m := regexp.MustCompile(`rosterd ready.*[ ,]"?http"?[=:]"?([^\s",]+)`).FindStringSubmatch(d.output())
	if m == nil {
		d.t.Fatalf("no http address in the ready line:\n%s", d.output())
	}
	return "http://" + m[1]
}

// TestServeAPI: `rosterd serve` answers the API on http_addr; an upload is
// processed by the daemon's own worker without waiting for the upload
// hold; on SIGTERM an upload still in flight completes (202) before the
// daemon exits 0.
func TestServeAPI(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		token := strings.TrimSpace(c.ok("token", "create", "--org", "acme", "--name", "ci"))
		db := c.db()
		d := c.serve()
		base := d.httpAddr()
		for _, p := range []string{"/healthz", "/readyz"} {
			res, err := http.Get(base + p)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s = %d", p, res.StatusCode)
			}
		}

		// An upload sent in two halves, SIGTERM between them.
		pr, pw := io.Pipe()
		form := multipart.NewWriter(pw)
		req, err := http.NewRequest("POST", base+"/api/v1/imports", pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", form.FormDataContentType())
		answered := make(chan *http.Response, 1)
		go func() {
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
			}
			answered <- res
		}()
		// Over one chunk (store.ChunkSize), sent in two parts: the first
		// ends past the first chunk, which the daemon stores as it
		// arrives — that is how the test sees the request in flight (a
		// file of one chunk stays in memory until the form ends).
		content := roster(15000, "API")
		half := store.ChunkSize + 4096
		part, err := form.CreateFormFile("file", "roster.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(part, content[:half]); err != nil {
			t.Fatal(err)
		}
		// The daemon has stored the first chunk: the request is in flight.
		deadline := time.Now().Add(30 * time.Second)
		for {
			var n int
			if err := db.GetContext(context.Background(), &n, `SELECT COUNT(*) FROM files`); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the upload never reached storage:\n%s", d.output())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(part, content[half:]); err != nil {
			t.Fatal(err)
		}
		_ = form.WriteField("dry_run", "false")
		_ = form.Close()
		_ = pw.Close()
		res := <-answered
		if res == nil {
			t.Fatalf("no answer to the in-flight upload:\n%s", d.output())
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("in-flight upload = %d %s\n%s", res.StatusCode, body, d.output())
		}
		var im struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &im); err != nil {
			t.Fatal(err)
		}
		select {
		case <-d.exited():
		case <-time.After(60 * time.Second):
			t.Fatalf("serve did not stop within 60s of SIGTERM:\n%s", d.output())
		}
		if code := d.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("serve exit code %d after SIGTERM:\n%s", code, d.output())
		}

		// A new daemon processes it at once: its job was due when the form
		// ended, not held back.
		start := time.Now()
		c.serve()
		got := waitImport(t, db, im.ID, 30*time.Second, finished)
		if got.Status != store.ImportSucceeded || got.Created != 15000 || got.Door != store.DoorAPI {
			t.Fatalf("uploaded import = %s %+v door %s", got.Status, got.Counts, got.Door)
		}
		t.Logf("processed %s after the restart", time.Since(start).Round(time.Millisecond))
	})
}
