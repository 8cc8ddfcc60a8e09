package sftpd_test

import (
	"context"
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

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// TestOpenSSHClient drives the door with the real OpenSSH sftp client in
// batch mode, logging in with a key: put under a temporary name, rename,
// put -p, ls -l, get from /in/ and /processed/.
func TestOpenSSHClient(t *testing.T) {
	sftpBin, err := exec.LookPath("sftp")
	if err != nil {
		t.Fatal("the OpenSSH sftp client is needed: apt-get install -y openssh-client")
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		dir := t.TempDir()
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			t.Fatal(err)
		}
		keyFile := filepath.Join(dir, "id_ed25519")
		if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		sshPub, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: e.org.ID, Username: "hr-system",
			AuthorizedKeys: string(ssh.MarshalAuthorizedKey(sshPub))}); err != nil {
			t.Fatal(err)
		}
		im, err := e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorSFTP, Mode: importer.ModeFull,
			FileName: "last-night.csv", File: strings.NewReader("external_id\nE1\n")})
		if err != nil {
			t.Fatal(err)
		}
		roster := strings.Repeat("E1;Ann;Lee;BE;nl;ann@example.com\n", 40_000) // ~1.3 MB: many pipelined writes
		if err := os.WriteFile(filepath.Join(dir, "roster.csv"), []byte(roster), 0o644); err != nil {
			t.Fatal(err)
		}
		batch := filepath.Join(dir, "batch")
		if err := os.WriteFile(batch, []byte(`put roster.csv /in/roster.csv.part
rename /in/roster.csv.part /in/roster.csv
put -p roster.csv /in/copy.csv
ls -l /in
get /in/roster.csv got.csv
ls -l /processed
get /processed/`+im.ID+`_last-night.csv processed.csv
`), 0o644); err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(e.addr)
		cmd := exec.Command(sftpBin, "-b", batch, "-P", port, "-i", keyFile, "-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "hr-system@127.0.0.1")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sftp: %v\n%s", err, out)
		}
		for _, re := range []string{
			`-rw-r--r--\s+\S+\s+\S+\s+\S+\s+` + itoaRe(len(roster)) + `\s+\w{3}\s+\d+\s+[\d:]+\s+roster\.csv`,
			`-rw-r--r--\s+\S+\s+\S+\s+\S+\s+` + itoaRe(len(roster)) + `\s+.*copy\.csv`,
			`-r--r--r--\s+.*\s15\s+.*` + im.ID + `_last-night\.csv`,
		} {
			if !regexp.MustCompile(re).Match(out) {
				t.Errorf("ls -l output lacks %s:\n%s", re, out)
			}
		}
		if got, err := os.ReadFile(filepath.Join(dir, "got.csv")); err != nil || string(got) != roster {
			t.Errorf("get /in/roster.csv: %d bytes, %v; want %d", len(got), err, len(roster))
		}
		if got, err := os.ReadFile(filepath.Join(dir, "processed.csv")); err != nil || string(got) != "external_id\nE1\n" {
			t.Errorf("get /processed/: %q, %v", got, err)
		}
		if n := e.onFileCalls(); n != 2 {
			t.Errorf("OnFile called %d times, want 2 (the rename and copy.csv)", n)
		}
		if !strings.Contains(e.log(), "method=publickey") {
			t.Errorf("log:\n%s", e.log())
		}
	})
}

func itoaRe(n int) string { return fmtInt(int64(n)) }
