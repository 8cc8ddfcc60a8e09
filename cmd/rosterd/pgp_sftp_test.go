package main_test

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"

	"rosterd/layers/layerstest"
	"rosterd/store"
)

// An HR system's nightly push as it really happens: gzip, then gpg
// (encrypted to the organisation's key, signed with its own), then the
// OpenSSH sftp client puts roster.csv.gz.pgp into /in/; the organisation
// requires encryption and signatures, and the sync applies the roster.
func TestEncryptedCompressedRosterOverOpenSSH(t *testing.T) {
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
		c.ok("org", "create", "acme", "--name", "Acme", "--schedule", "on_upload")
		c.ok("sftp-account", "add", "--org", "acme", "--user", "hr", "--authorized-key", c.write("hr.pub", string(ssh.MarshalAuthorizedKey(sshPub))))
		g := layerstest.NewGPG(t)
		g.Import(c.ok("pgp-key", "create", "--org", "acme"))
		c.ok("org", "update", "acme", "--sender-pgp-key", c.write("hr.asc", g.NewKey("HR <hr@example.com>")),
			"--require-encryption", "--require-signature")

		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write([]byte(roster(500, "A")))
		w.Close()
		file := c.write("roster.csv.gz.pgp", string(g.Encrypt(gz.Bytes(), "rosters+acme@rosterd.invalid", "hr@example.com", false)))

		d := c.serve()
		_, port, _ := net.SplitHostPort(d.sftpAddr())
		out, err := exec.Command(sftpBin, "-F", "/dev/null", "-b", c.write("batch", "put "+file+" /in/roster.csv.gz.pgp\n"),
			"-P", port, "-i", keyFile, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=/dev/null", "hr@127.0.0.1").CombinedOutput()
		if err != nil {
			t.Fatalf("sftp put: %v\n%s\n%s", err, out, d.output())
		}
		im := nextSFTPImport(t, c.db(), "")
		if im.Status != store.ImportSucceeded || im.Created != 500 || im.FileName != "roster.csv.gz.pgp" {
			t.Fatalf("the encrypted roster: %s, %d created, file %s (%s)", im.Status, im.Created, im.FileName, im.Error)
		}
		if c.userStatus("acme", "E000500") != store.StatusActive {
			t.Fatal("E000500 is not active after the sync")
		}
	})
}
