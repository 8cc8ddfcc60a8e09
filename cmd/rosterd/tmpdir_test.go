package main_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rosterd/xlsxfile/xlsxtest"
)

// A workbook being imported is spooled (sealed) in data_dir/tmp, made
// 0700, and nothing in the system's temporary directory (often RAM): by
// the command line and by the daemon, each held by the test hook with the
// workbook open. The spools a killed process left are removed when the
// daemon starts; another file there is left alone.
func TestWorkbookSpoolsInDataDirTmp(t *testing.T) {
	t.Parallel()
	rows := [][]any{{"external_id", "first_name", "last_name", "country", "preferred_language", "business_email"}}
	for i := 1; i <= 200; i++ {
		rows = append(rows, []any{fmt.Sprintf("E%d", i), fmt.Sprintf("First%d", i), "Smith", "BE", "nl", fmt.Sprintf("u%d@example.com", i)})
	}
	book := xlsxtest.Book(t, "", rows)
	eachDialect(t, func(t *testing.T, c *cli) {
		sysTmp := t.TempDir()
		c.env = append(c.env, "TMPDIR="+sysTmp)
		tmp := filepath.Join(c.dir, "data", "tmp")
		c.ok("org", "create", "acme", "--name", "Acme")
		c.ok("org", "create", "beta", "--name", "Beta")
		in := c.write("roster.xlsx", string(book))
		// spools lists the workbook spools in tmp, and fails the test
		// for any file in the system's temporary directory.
		spools := func(when string) []string {
			t.Helper()
			ents, err := os.ReadDir(tmp)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), "rosterd-xlsx-") {
					names = append(names, e.Name())
				}
			}
			if sys, _ := os.ReadDir(sysTmp); len(sys) != 0 {
				t.Errorf("%s: %d files in the system's temporary directory (%s…), want none", when, len(sys), sys[0].Name())
			}
			return names
		}

		// The command line, held with the workbook open, then killed.
		marker := filepath.Join(c.dir, "opened-cli")
		cmd := exec.Command(binary, "import", "--org", "acme", in)
		cmd.Env = append(slices.Clone(c.env), "ROSTERD_TEST_PAUSE_AT=opened", "ROSTERD_TEST_PAUSE_AT_FILE="+marker)
		cmd.Dir = c.dir
		var cliOut strings.Builder
		cmd.Stdout, cmd.Stderr = &cliOut, &cliOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ended := make(chan error, 1)
		go func() { ended <- cmd.Wait() }()
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		for deadline := time.Now().Add(60 * time.Second); ; {
			if _, err := os.Stat(marker); err == nil {
				break
			} else if !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			select {
			case err := <-ended:
				t.Fatalf("rosterd import ended before the workbook was open: %v\n%s", err, cliOut.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatal("rosterd import did not open the workbook within 60s")
			}
		}
		left := spools("rosterd import, the workbook open")
		if len(left) < 2 {
			t.Errorf("rosterd import, the workbook open: spools %q in data_dir/tmp, want the workbook's and its shared strings'", left)
		}
		if fi, err := os.Stat(tmp); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("data_dir/tmp: %v %v, want a directory of mode 0700", fi.Mode(), err)
		}
		_ = cmd.Process.Kill()
		<-ended
		if after := spools("rosterd import killed"); !slices.Equal(after, left) {
			t.Fatalf("after the kill data_dir/tmp holds %q, want what the killed process left, %q", after, left)
		}
		keep := filepath.Join(tmp, "rosterd-notes.txt")
		if err := os.WriteFile(keep, []byte("not a spool"), 0o600); err != nil {
			t.Fatal(err)
		}

		// The daemon: its start removes the spools the killed process
		// left, and its imports spool there too.
		marker = filepath.Join(c.dir, "opened-serve")
		d := c.serve("ROSTERD_TEST_PAUSE_AT=opened", "ROSTERD_TEST_PAUSE_AT_FILE="+marker)
		for _, name := range left {
			if _, err := os.Stat(filepath.Join(tmp, name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the killed import's spool %s is still there after the daemon started (%v)", name, err)
			}
		}
		if want := fmt.Sprintf(`msg="removed the workbook spools that stopped processes left" path=%s files=%d`, tmp, len(left)); !strings.Contains(d.output(), want) {
			t.Errorf("the daemon's log lacks %s:\n%s", want, d.output())
		}
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("the start-up sweep removed a file that is no spool: %v", err)
		}
		c.ok("import", "--org", "beta", "--detach", in)
		waitFile(t, marker, 60*time.Second, d)
		if got := spools("rosterd serve, the workbook open"); len(got) < 2 {
			t.Errorf("rosterd serve, the workbook open: spools %q in data_dir/tmp, want the workbook's and its shared strings'", got)
		}
		d.kill()
	})
}
