package httpd_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"rosterd/ingest/httpd"
	"rosterd/store"
	"rosterd/store/storetest"
)

// TestUnauthenticatedUploadAnsweredAtOnce: an upload without a session or
// token — its headers sent, then nothing of its body — is answered at once
// (303 to sign in, 401) and its connection closed, instead of being held
// while the body dribbles in (issue 19: 800 such connections stayed open).
func TestUnauthenticatedUploadAnsweredAtOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newServed(t, db, time.Minute) // http_timeout 1m: what a dribbling client could hold
		for _, tc := range []struct {
			name, path, length string
			want               string
		}{
			{"page, large Content-Length", "/upload", "Content-Length: 100000000", "HTTP/1.1 303"},
			{"page, chunked", "/upload", "Transfer-Encoding: chunked", "HTTP/1.1 303"},
			{"API, large Content-Length", "/api/v1/imports", "Content-Length: 100000000", "HTTP/1.1 401"},
			{"API, chunked", "/api/v1/imports", "Transfer-Encoding: chunked", "HTTP/1.1 401"},
			{"API, bad token, chunked", "/api/v1/imports", "Transfer-Encoding: chunked\r\nAuthorization: Bearer nope", "HTTP/1.1 401"},
		} {
			conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Close() })
			start := time.Now()
			_, err = io.WriteString(conn, "POST "+tc.path+" HTTP/1.1\r\nHost: "+e.srv.Listener.Addr().String()+"\r\n"+
				"Content-Type: multipart/form-data; boundary=xyz\r\n"+tc.length+"\r\n\r\n")
			if err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			r := bufio.NewReader(conn)
			res, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatalf("%s: no answer before the body (%s): %v", tc.name, time.Since(start).Round(time.Millisecond), err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if got := res.Proto + " " + res.Status; !strings.HasPrefix(got, tc.want) {
				t.Errorf("%s: answered %q, want %s", tc.name, got, tc.want)
			}
			if !res.Close { // Connection: close
				t.Errorf("%s: answer without Connection: close (%v)", tc.name, res.Header)
			}
			// Then the connection ends: the server reads no more of it.
			_, err = r.ReadByte()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("%s: the connection was still open %s after its answer", tc.name, time.Since(start).Round(time.Millisecond))
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("%s: closed after %s, want at once", tc.name, took.Round(time.Millisecond))
			}
			_ = conn.Close()
		}
	})
}

// TestConnectionsPerAddressCapped: past http_max_connections_per_ip, a new
// connection from the same address is closed at once, logged once and
// counted, while those below the cap keep working; closing one frees a
// slot.
func TestConnectionsPerAddressCapped(t *testing.T) {
	t.Parallel()
	logs := &recordedLogs{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	limited := httpd.LimitConnections(srv.Listener, 3, slog.New(logs))
	srv.Listener = limited
	srv.Start()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()

	// get sends a request on conn and tells whether it was answered.
	get := func(conn net.Conn, r *bufio.Reader) error {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: rosterd.test\r\n\r\n"); err != nil {
			return err
		}
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err == nil && string(b) != "ok" {
			err = errors.New("answered " + string(b))
		}
		return err
	}
	type client struct {
		conn net.Conn
		r    *bufio.Reader
	}
	dial := func() client {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return client{conn, bufio.NewReader(conn)}
	}
	var open []client
	for i := range 3 {
		c := dial()
		if err := get(c.conn, c.r); err != nil {
			t.Fatalf("connection %d of 3: %v", i+1, err)
		}
		open = append(open, c)
	}
	for i := range 2 {
		c := dial()
		if err := get(c.conn, c.r); err == nil {
			t.Fatalf("connection %d past the cap of 3 was answered", i+1)
		}
	}
	for i, c := range open {
		if err := get(c.conn, c.r); err != nil {
			t.Fatalf("connection %d below the cap stopped working: %v", i+1, err)
		}
	}
	if n := limited.Refused(); n != 2 {
		t.Errorf("refused count = %d, want 2", n)
	}
	if warns := logs.messages(slog.LevelWarn); len(warns) != 1 || !strings.Contains(warns[0], "http_max_connections_per_ip") {
		t.Errorf("WARN logs = %q, want one naming http_max_connections_per_ip", warns)
	}

	// One closes: a new connection gets its slot once the server saw it go.
	_ = open[0].conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dial()
		err := get(c.conn, c.r)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot freed 10s after a connection closed: %v", err)
		}
		_ = c.conn.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

// recordedLogs is a slog handler that keeps what it is given.
type recordedLogs struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordedLogs) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordedLogs) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
	return nil
}
func (h *recordedLogs) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordedLogs) WithGroup(string) slog.Handler      { return h }

func (h *recordedLogs) messages(level slog.Level) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.records {
		if r.Level == level {
			out = append(out, r.Message)
		}
	}
	return out
}
