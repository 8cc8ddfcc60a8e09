package sftpd_test

import (
	"net"
	"regexp"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestHandshakeCutOffLogged: a client that connects and hangs up before
// logging in leaves an INFO line with its address, not a debug one.
func TestHandshakeCutOffLogged(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		nc, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nc.Write([]byte("SSH-2.0-scanner\r\n")); err != nil {
			t.Fatal(err)
		}
		nc.Close()
		want := regexp.MustCompile(`level=INFO msg="SFTP handshake ended before login" address=127\.0\.0\.1 error=`)
		deadline := time.Now().Add(10 * time.Second)
		for !want.MatchString(e.log()) {
			if time.Now().After(deadline) {
				t.Fatalf("no INFO line for the cut-off handshake; log:\n%s", e.log())
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
