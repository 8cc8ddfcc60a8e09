package main_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// spoolFiles lists the files under data_dir/spool/, each as its path
// below spool/ (a daemon's directory and lock file, the uploads in it).
func spoolFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSpoolOfAKilledDaemonRemoved: an upload being sent is spooled under
// data_dir/spool/, private to rosterd; a daemon killed with SIGKILL in the
// middle of it leaves the spool file behind, and the next daemon started
// on that data directory removes it — roster data does not stay on disk.
func TestSpoolOfAKilledDaemonRemoved(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		if _, errOut, code := c.run("long enough\n", "sftp-account", "add", "--org", "acme", "--user", "hr", "--password-stdin"); code != 0 {
			t.Fatalf("sftp-account add: %s", errOut)
		}
		root := filepath.Join(c.dir, "data", "spool")
		d := c.serve()
		client, conn, err := sftpLogin(d.sftpAddr(), "hr", "long enough")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		f, err := client.Create("/in/roster.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("external_id,first_name\nE1,Ann\n")); err != nil {
			t.Fatal(err)
		}
		// The client holds the file open; the daemon has spooled what it got.
		var uploads []string
		deadline := time.Now().Add(20 * time.Second)
		for {
			uploads = slices.DeleteFunc(spoolFiles(t, root), func(p string) bool { return filepath.Ext(p) != ".upload" })
			if len(uploads) == 1 {
				if fi, err := os.Stat(filepath.Join(root, uploads[0])); err == nil && fi.Size() > 0 {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no upload spooled under %s: %v", root, spoolFiles(t, root))
			}
			time.Sleep(10 * time.Millisecond)
		}
		for _, dir := range []string{root, filepath.Dir(filepath.Join(root, uploads[0]))} {
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: %v, want a directory of mode 0700 (%v)", dir, fi.Mode(), err)
			}
		}

		if err := d.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-d.ended
		left := filepath.Join(root, uploads[0])
		if _, err := os.Stat(left); err != nil {
			t.Fatalf("the killed daemon's spool file is not there to clean: %v", err)
		}

		d2 := c.serve()
		if _, err := os.Stat(left); !os.IsNotExist(err) {
			t.Errorf("%s still there after a restart (%v); spool holds %v", left, err, spoolFiles(t, root))
		}
		if got := spoolFiles(t, root); len(got) != 1 || filepath.Ext(got[0]) != ".lock" {
			t.Errorf("spool after the restart holds %v, want only the new daemon's lock file", got)
		}
		d2.waitLog("removed the unfinished SFTP uploads a stopped daemon left")
		d2.stop()
		if got := spoolFiles(t, root); len(got) != 0 {
			t.Errorf("spool after a clean stop holds %v, want nothing", got)
		}
	})
}
