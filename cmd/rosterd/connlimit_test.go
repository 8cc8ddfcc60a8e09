package main_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"rosterd/store"
)

// TestServeCapsConnectionsPerAddress: with http_max_connections_per_ip set
// (here from the environment), the daemon keeps that many connections from
// one address working and closes the next at once, says so in its log at
// WARN and counts it in rosterd_http_refused_connections_total.
func TestServeCapsConnectionsPerAddress(t *testing.T) {
	t.Parallel()
	c := newCLI(t, store.SQLite)
	c.env = append(c.env, "ROSTERD_HTTP_MAX_CONNECTIONS_PER_IP=2")
	d := c.serve()
	addr := strings.TrimPrefix(d.httpAddr(), "http://")

	type conn struct {
		net.Conn
		r *bufio.Reader
	}
	healthz := func(cn conn) error {
		_ = cn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(cn, "GET /healthz HTTP/1.1\r\nHost: rosterd.test\r\n\r\n"); err != nil {
			return err
		}
		res, err := http.ReadResponse(cn.r, nil)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		return res.Body.Close()
	}
	dial := func() conn {
		t.Helper()
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = nc.Close() })
		return conn{nc, bufio.NewReader(nc)}
	}
	first, second := dial(), dial()
	for i, cn := range []conn{first, second} {
		if err := healthz(cn); err != nil {
			t.Fatalf("connection %d of 2: %v", i+1, err)
		}
	}
	if err := healthz(dial()); err == nil {
		t.Fatal("a third connection from the same address was answered")
	}
	if err := healthz(first); err != nil {
		t.Fatalf("a connection below the cap stopped working: %v", err)
	}
	// The refusal is logged as the connection is closed: the client may see
	// it closed before the line reaches the log.
	d.waitLog("level=WARN msg=\"HTTP connection refused: too many open connections from this address (http_max_connections_per_ip)")

	// Free both slots, then scrape (the scrape needs a connection too).
	_ = first.Close()
	_ = second.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(d.httpAddr() + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			// At least the third; tries before the slots were freed count too.
			m := regexp.MustCompile(`\nrosterd_http_refused_connections_total ([0-9]+)\n`).FindSubmatch(b)
			if m == nil || string(m[1]) == "0" {
				t.Errorf("metrics do not count the refused connection:\n%s", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot freed 10s after the connections closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
