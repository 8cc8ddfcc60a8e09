package main_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// TestSFTPAccountCommands: add with a password and with a key file, the
// messages that say what is valid, list (table and JSON), remove.
func TestSFTPAccountCommands(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		keys := c.write("keys.pub", "# the HR system\n"+string(ssh.MarshalAuthorizedKey(k)))
		bad := c.write("bad.pub", string(ssh.MarshalAuthorizedKey(k))+"ssh-rsa AAAA-not-base64 x\n")

		if out, _, code := c.run("long enough\n", "sftp-account", "add", "--org", "acme", "--user", "hr.sync", "--password-stdin"); code != 0 ||
			out != "SFTP account hr.sync added for acme\n" {
			t.Fatalf("add with a password: exit %d, %q", code, out)
		}
		c.ok("sftp-account", "add", "--org", "acme", "--user", "hr-bot", "--authorized-key", keys)
		for _, tc := range []struct {
			stdin string
			args  []string
			want  string
		}{
			{"", []string{"--user", "x"}, "give --password-stdin, --authorized-key FILE, or both"},
			{"long enough\n", []string{"--user", "a b", "--password-stdin"}, `user name "a b" is not valid: use 1 to 64 letters, digits, '.', '_' or '-'`},
			{"", []string{"--user", "y", "--authorized-key", bad}, bad + ": authorized key line 2 is not a public key"},
			{"short\n", []string{"--user", "z", "--password-stdin"}, "the password must have at least 8 characters"},
			{"long enough\n", []string{"--user", "hr.sync", "--password-stdin"}, `an SFTP account named "hr.sync" already exists`},
		} {
			_, errOut, code := c.run(tc.stdin, append([]string{"sftp-account", "add", "--org", "acme"}, tc.args...)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("add %v: exit %d, %q; want %q", tc.args, code, errOut, tc.want)
			}
		}

		table := c.ok("sftp-account", "list", "--org", "acme")
		if !regexp.MustCompile(`(?m)^USER\s+PASSWORD\s+KEYS\s+CREATED\nhr-bot\s+no\s+1\s+\d{4}-.*\nhr\.sync\s+yes\s+0\s+`).MatchString(table) {
			t.Errorf("list:\n%s", table)
		}
		var list []struct {
			User     string `json:"user"`
			Password bool   `json:"password"`
			Keys     int    `json:"keys"`
		}
		if err := json.Unmarshal([]byte(c.ok("sftp-account", "list", "--org", "acme", "--json")), &list); err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].User != "hr-bot" || list[0].Keys != 1 || list[0].Password || list[1].User != "hr.sync" || !list[1].Password {
			t.Errorf("list --json = %+v", list)
		}
		c.ok("sftp-account", "remove", "--org", "acme", "--user", "hr-bot")
		if _, errOut, code := c.run("", "sftp-account", "remove", "--org", "acme", "--user", "hr-bot"); code == 0 ||
			!strings.Contains(errOut, `acme has no SFTP account "hr-bot"`) {
			t.Errorf("second remove: exit %d, %q", code, errOut)
		}
		if out := c.ok("sftp-account", "list", "--org", "acme", "--json"); !strings.Contains(out, "hr.sync") || strings.Contains(out, "hr-bot") {
			t.Errorf("after remove: %s", out)
		}
	})
}

// sftpAddr is where the daemon's ready line says SFTP listens.
func (d *daemon) sftpAddr() string {
	d.t.Helper()
	m := regexp.MustCompile(`rosterd ready.*[ ,]"?sftp"?[=:]"?([^\s",]+)`).FindStringSubmatch(d.output())
	if m == nil {
		d.t.Fatalf("no sftp address in the ready line:\n%s", d.output())
	}
	return m[1]
}

// waitLog waits for the daemon to log want.
func (d *daemon) waitLog(want string) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(d.output(), want) {
		if time.Now().After(deadline) {
			d.t.Fatalf("the daemon never logged %q:\n%s", want, d.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sftpLogin(addr, user, password string) (*sftp.Client, *ssh.Client, error) {
	conn, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		return nil, nil, err
	}
	c, err := sftp.NewClient(conn)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return c, conn, nil
}

// TestDemoSFTP: `rosterd demo` prints an SFTP login that works against
// `rosterd serve`, whose host key is made once and kept; on SIGTERM an
// upload in flight finishes and is stored while new connections are
// refused.
func TestDemoSFTP(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		out := c.ok("demo")
		m := regexp.MustCompile(`SFTP login\s+demo / (\S+)`).FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "sftp -P 2022 demo@localhost") {
			t.Fatalf("rosterd demo printed no SFTP login and command:\n%s", out)
		}
		password := m[1]
		d := c.serve()
		addr := d.sftpAddr()
		client, conn, err := sftpLogin(addr, "demo", password)
		if err != nil {
			t.Fatalf("log in with the demo's SFTP credentials: %v", err)
		}
		defer conn.Close()
		if _, _, err := sftpLogin(addr, "demo", "not the password"); err == nil {
			t.Error("a wrong password logged in")
		}
		hostKey, err := os.ReadFile(c.dir + "/data/sftp_host_key")
		if err != nil {
			t.Fatalf("host key not kept in the data directory: %v", err)
		}

		f, err := client.Create("/in/roster.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("external_id;first_name\n")); err != nil {
			t.Fatal(err)
		}
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		d.waitLog("SFTP stopping")
		if _, _, err := sftpLogin(addr, "demo", password); err == nil {
			t.Error("a new connection was served while stopping")
		}
		if _, err := f.Write([]byte("E1;Ann\n")); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatalf("the upload in flight at SIGTERM: %v\n%s", err, d.output())
		}
		<-d.exited()
		if code := d.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("exit %d:\n%s", code, d.output())
		}
		if !strings.Contains(d.output(), "SFTP upload stored") {
			t.Errorf("log:\n%s", d.output())
		}
		var name string
		var size int64
		if err := c.db().QueryRowx(`SELECT name, size_bytes FROM sftp_inbox`).Scan(&name, &size); err != nil || name != "roster.csv" || size != 30 {
			t.Errorf("/in/ holds %q of %d bytes (%v); want roster.csv of 30", name, size, err)
		}

		// The next start reuses the host key.
		d = c.serve()
		client, conn, err = sftpLogin(d.sftpAddr(), "demo", password)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		rd, err := client.Open("/in/roster.csv")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rd)
		if err != nil || string(b) != "external_id;first_name\nE1;Ann\n" {
			t.Errorf("get after the restart: %q, %v", b, err)
		}
		if again, err := os.ReadFile(c.dir + "/data/sftp_host_key"); err != nil || string(again) != string(hostKey) {
			t.Errorf("host key changed across restarts (%v)", err)
		}
		if _, err := client.Stat("/processed"); errors.Is(err, os.ErrNotExist) {
			t.Error("/processed missing")
		}
	})
}
