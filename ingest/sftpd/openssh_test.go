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
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		dir, sftpCmd := e.openSSHLogin()
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
		cmd := sftpCmd(batch)
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

// openSSHLogin gives the organisation an SFTP account "hr-system" that
// logs in with a key, and returns a folder holding that key and the
// OpenSSH sftp command that runs a batch file in that folder, logged in
// with it.
func (e *env) openSSHLogin() (dir string, sftpCmd func(batch string) *exec.Cmd) {
	t := e.t
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs the OpenSSH sftp client (real processes)")
	}
	sftpBin, err := exec.LookPath("sftp")
	if err != nil {
		t.Fatal("the OpenSSH sftp client is needed: apt-get install -y openssh-client")
	}
	dir = t.TempDir()
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
	if _, err := store.SFTPAccountCreate(context.Background(), e.db, store.SFTPAccountCreateParams{OrgID: e.org.ID, Username: "hr-system",
		AuthorizedKeys: string(ssh.MarshalAuthorizedKey(sshPub))}); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(e.addr)
	return dir, func(batch string) *exec.Cmd {
		cmd := exec.Command(sftpBin, "-b", batch, "-P", port, "-i", keyFile, "-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "hr-system@127.0.0.1")
		cmd.Dir = dir
		return cmd
	}
}

// TestErrorsReadme: /errors/ shows a read-only README.txt, beside the
// errors CSV of a sync, that says where a fixed errors CSV goes (the back
// office or the API) and that it never goes into /in/. Listed and read with
// the OpenSSH sftp client and pkg/sftp; writing or removing it is refused.
func TestErrorsReadme(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		im, err := e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorSFTP, Mode: importer.ModeFull,
			FileName: "roster.csv", File: strings.NewReader("external_id;first_name;last_name;country;preferred_language;business_email\n" +
				"E1;Ann;Lee;BE;nl;ann@example.com\nE2;Bob;Roe;XX;nl;bob@example.com\n")})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := e.svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID}); err != nil || out.Import.Failed != 1 {
			t.Fatalf("sync: %+v, %v", out, err)
		}
		wantReadme := func(where, text string) {
			t.Helper()
			for _, want := range []string{
				"These are the failed rows of each sync.",
				"upload it in the\r\nback office (Actions > Upload users) or through the API\r\n(POST /api/v1/imports).",
				"never archive anyone.",
				"Never put it into /in/. A file in /in/ is the whole roster: every user\r\nmissing from it would be archived.",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("%s: README.txt lacks %q:\n%s", where, want, text)
				}
			}
		}

		// The OpenSSH client: listed, read; a put over it and its removal
		// refused (the batch goes on past them: "-" before the command).
		dir, sftpCmd := e.openSSHLogin()
		batch := filepath.Join(dir, "batch")
		if err := os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(batch, []byte("ls -l /errors\nget /errors/README.txt readme.txt\n-put mine.txt /errors/README.txt\n-rm /errors/README.txt\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := sftpCmd(batch).CombinedOutput()
		if err != nil {
			t.Fatalf("sftp: %v\n%s", err, out)
		}
		for _, re := range []string{
			`-r--r--r--\s+.*\s` + itoaRe(len(readme(t, e))) + `\s+.*README\.txt`,
			`-r--r--r--\s+.*` + im.ID + `\.csv`,
			`dest open "/errors/README.txt": Permission denied`,
			`remote delete /errors/README.txt: Permission denied`,
		} {
			if !regexp.MustCompile(re).Match(out) {
				t.Errorf("sftp output lacks %s:\n%s", re, out)
			}
		}
		got, err := os.ReadFile(filepath.Join(dir, "readme.txt"))
		if err != nil {
			t.Fatal(err)
		}
		wantReadme("get with OpenSSH", string(got))

		// pkg/sftp: listed first, read-only, the same text, still there.
		c := e.client()
		if list := ls(t, c, "/errors"); len(list) != 2 || list[0] != "README.txt "+fmtInt(int64(len(got))) || !strings.HasPrefix(list[1], im.ID+".csv ") {
			t.Errorf("ls /errors = %v, want README.txt and %s.csv", list, im.ID)
		}
		fi, err := c.Stat("/errors/README.txt")
		if err != nil || fi.Mode().Perm() != 0o444 || fi.Size() != int64(len(got)) {
			t.Errorf("stat /errors/README.txt: %v, %v", fi, err)
		}
		if text := get(t, c, "/errors/README.txt"); text != string(got) {
			t.Errorf("pkg/sftp reads %q, OpenSSH %q", text, got)
		}
		if err := put(c, "/errors/README.txt", "x"); err == nil {
			t.Error("writing /errors/README.txt was allowed")
		}
		if err := c.Remove("/errors/README.txt"); err == nil {
			t.Error("removing /errors/README.txt was allowed")
		}
		// /in/ shows no README: only what was put there.
		if list := ls(t, c, "/in"); len(list) != 0 {
			t.Errorf("ls /in = %v, want empty", list)
		}
	})
}

// readme reads /errors/README.txt with pkg/sftp.
func readme(t *testing.T, e *env) string {
	t.Helper()
	return get(t, e.client(), "/errors/README.txt")
}
