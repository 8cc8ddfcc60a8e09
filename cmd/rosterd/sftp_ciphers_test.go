package main_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestSFTPCiphers: the real OpenSSH sftp client with its default options
// negotiates AES with rosterd's default ciphers (the login line says
// which, and which client); one forced to chacha20 is refused, and let in
// once sftp_ciphers adds chacha20. A cipher name rosterd does not know
// stops serve at start, listing the known ones.
func TestSFTPCiphers(t *testing.T) {
	t.Parallel()
	needBinary(t)
	sftpBin, err := exec.LookPath("sftp")
	if err != nil {
		t.Fatal("the OpenSSH sftp client is needed: apt-get install -y openssh-client")
	}
	eachDialect(t, func(t *testing.T, c *cli) {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			t.Fatal(err)
		}
		keyFile := filepath.Join(c.dir, "id_ed25519")
		if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		sshPub, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		c.ok("org", "create", "acme", "--name", "Acme")
		c.ok("sftp-account", "add", "--org", "acme", "--user", "hr", "--authorized-key", c.write("hr.pub", string(ssh.MarshalAuthorizedKey(sshPub))))
		batch := c.write("batch", "ls /in\n")
		// sftpLs lists /in/ with the OpenSSH client, its options as given
		// and no ssh_config of the machine (-F /dev/null): the client's
		// own defaults.
		sftpLs := func(d *daemon, opts ...string) (string, error) {
			_, port, _ := net.SplitHostPort(d.sftpAddr())
			args := append([]string{"-F", "/dev/null", "-b", batch, "-P", port, "-i", keyFile, "-o", "IdentitiesOnly=yes",
				"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"}, opts...)
			out, err := exec.Command(sftpBin, append(args, "hr@127.0.0.1")...).CombinedOutput()
			return string(out), err
		}
		loginLine := regexp.MustCompile(`(?m)^.*SFTP login.*$`)

		d := c.serve()
		if out, err := sftpLs(d); err != nil {
			t.Fatalf("sftp with its default options: %v\n%s\n%s", err, out, d.output())
		}
		d.waitLog("SFTP login")
		line := loginLine.FindString(d.output())
		if !regexp.MustCompile(` cipher=aes(128|192|256)-(ctr|gcm@openssh\.com) `).MatchString(line) ||
			!regexp.MustCompile(` mac=\S+ `).MatchString(line) || !strings.Contains(line, `client="SSH-2.0-OpenSSH_`) {
			t.Errorf("the login of an OpenSSH client with its default options; want cipher=aes…, mac= and client=SSH-2.0-OpenSSH_…:\n%s", line)
		}
		out, err := sftpLs(d, "-o", "Ciphers=chacha20-poly1305@openssh.com")
		if err == nil || !strings.Contains(out, "no matching cipher found") {
			t.Errorf("sftp forced to chacha20 against the default ciphers: %v, want it refused (no matching cipher found):\n%s", err, out)
		}
		d.waitLog("SFTP handshake ended before login")
		if !strings.Contains(d.output(), "no common algorithm for client to server cipher") {
			t.Errorf("the refusal of chacha20 is not logged with its reason:\n%s", d.output())
		}
		d.kill()

		d = c.serve("ROSTERD_SFTP_CIPHERS=+chacha20-poly1305@openssh.com")
		if out, err := sftpLs(d, "-o", "Ciphers=chacha20-poly1305@openssh.com"); err != nil {
			t.Fatalf("sftp forced to chacha20 with sftp_ciphers +chacha20: %v\n%s\n%s", err, out, d.output())
		}
		d.waitLog("SFTP login")
		if line := loginLine.FindString(d.output()); !strings.Contains(line, " cipher=chacha20-poly1305@openssh.com mac=<implicit> ") {
			t.Errorf("the login forced to chacha20; want cipher=chacha20-poly1305@openssh.com mac=<implicit>:\n%s", line)
		}
		d.kill()

		c.env = append(c.env, "ROSTERD_SFTP_CIPHERS=aes128-ctr,blowfish-cbc")
		_, errOut, code := c.run("", "serve")
		if code == 0 || !strings.Contains(errOut, `sftp_ciphers: unknown cipher "blowfish-cbc"; the known ones are aes128-gcm@openssh.com, `) {
			t.Errorf("serve with an unknown cipher: exit %d, want a refusal listing the known ciphers:\n%s", code, errOut)
		}
	})
}
