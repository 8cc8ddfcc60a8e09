package main_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"rosterd/store"
)

func sftpPut(c *sftp.Client, name, content string) error {
	f, err := c.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write([]byte(content)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ended is closed when the client's SSH connection has ended.
func ended(conn *ssh.Client) <-chan struct{} {
	done := make(chan struct{})
	go func() { _ = conn.Wait(); close(done) }()
	return done
}

// TestSFTPIdleTimeout: a connection that keeps sending requests stays
// open past sftp_idle_timeout; once it falls quiet for that long the
// daemon closes it and says so.
func TestSFTPIdleTimeout(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		if _, errOut, code := c.run("long enough\n", "sftp-account", "add", "--org", "acme", "--user", "hr", "--password-stdin"); code != 0 {
			t.Fatalf("sftp-account add: %s", errOut)
		}
		const idle = 1500 * time.Millisecond
		d := c.serve("ROSTERD_SFTP_IDLE_TIMEOUT=" + idle.String())
		client, conn, err := sftpLogin(d.sftpAddr(), "hr", "long enough")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		closed := ended(conn)
		// Busy for twice the timeout: a request every 300 ms.
		// last is taken before each request is sent: the daemon notes the
		// request when it arrives, later, so the quiet it counts is never
		// shorter than the quiet measured from here.
		var last time.Time
		for start := time.Now(); time.Since(start) < 2*idle; time.Sleep(300 * time.Millisecond) {
			last = time.Now()
			if _, err := client.Stat("/in"); err != nil {
				t.Fatalf("a busy connection was closed after %s: %v", time.Since(start), err)
			}
		}
		select {
		case <-closed:
			if quiet := time.Since(last); quiet < idle {
				t.Errorf("closed after %s quiet, before sftp_idle_timeout (%s)", quiet, idle)
			}
		case <-time.After(idle + 10*time.Second):
			t.Fatalf("an idle connection still open %s after its last request", time.Since(last))
		}
		d.waitLog("SFTP connection closed: idle")
	})
}

// TestSFTPAccountRemovedClosesSessions: `rosterd sftp-account remove`, run
// while the account is logged in, closes its sessions within seconds on
// every daemon — two on PostgreSQL, where daemons share the database, one
// on SQLite — and leaves the other accounts' sessions open.
func TestSFTPAccountRemovedClosesSessions(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		for _, user := range []string{"hr", "other"} {
			if _, errOut, code := c.run("long enough\n", "sftp-account", "add", "--org", "acme", "--user", user, "--password-stdin"); code != 0 {
				t.Fatalf("sftp-account add %s: %s", user, errOut)
			}
		}
		daemons := 1
		if c.dialect == store.Postgres {
			daemons = 2
		}
		var removedConns []<-chan struct{}
		var addrs []string
		var keep []func() error
		for i := range daemons {
			d := c.serve(fmt.Sprintf("ROSTERD_DATA_DIR=%s", filepath.Join(c.dir, fmt.Sprintf("node%d", i))))
			addr := d.sftpAddr()
			addrs = append(addrs, addr)
			hr, hrConn, err := sftpLogin(addr, "hr", "long enough")
			if err != nil {
				t.Fatal(err)
			}
			defer hrConn.Close()
			if err := sftpPut(hr, "/in/roster.csv", "external_id\n"); err != nil {
				t.Fatalf("put before the removal: %v", err)
			}
			removedConns = append(removedConns, ended(hrConn))
			other, otherConn, err := sftpLogin(addr, "other", "long enough")
			if err != nil {
				t.Fatal(err)
			}
			defer otherConn.Close()
			keep = append(keep, func() error { _, err := other.Stat("/in/roster.csv"); return err })
		}

		c.ok("sftp-account", "remove", "--org", "acme", "--user", "hr")
		removed := time.Now()
		for i, done := range removedConns {
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Fatalf("daemon %d: the removed account's session still open %s after the removal", i, time.Since(removed))
			}
		}
		t.Logf("sessions closed %s after the removal", time.Since(removed).Round(time.Millisecond))
		for i, stat := range keep {
			if err := stat(); err != nil {
				t.Errorf("daemon %d: another account's session was closed too: %v", i, err)
			}
		}
		for _, addr := range addrs {
			if _, _, err := sftpLogin(addr, "hr", "long enough"); err == nil {
				t.Errorf("%s: the removed account logged in", addr)
			}
		}
	})
}
