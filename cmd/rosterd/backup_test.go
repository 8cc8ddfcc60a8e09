package main_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rosterd/store"
)

// TestBackupWhileServing: `rosterd backup FILE` copies the SQLite database
// while a daemon serves it, the copy opens with every user, and a second
// backup never overwrites the first. On PostgreSQL it points to pg_dump.
func TestBackupWhileServing(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		c.ok("import", "--org", "acme", c.write("r.csv", roster(50, "B")))
		d := c.serve()
		file := filepath.Join(c.dir, "backup.db")
		out, errOut, code := c.run("", "backup", file)
		if c.dialect == store.Postgres {
			if code != 1 || !strings.Contains(errOut, "for PostgreSQL use pg_dump") {
				t.Fatalf("backup on PostgreSQL: exit %d %s%s, want 1 naming pg_dump", code, out, errOut)
			}
			return
		}
		if code != 0 || !strings.Contains(out, "backup written to "+file) {
			t.Fatalf("backup: exit %d %s%s", code, out, errOut)
		}
		copyDB, err := store.Open(context.Background(), "sqlite:"+file)
		if err != nil {
			t.Fatal(err)
		}
		defer copyDB.Close()
		if n := c.userCount(copyDB, "acme"); n != 50 {
			t.Fatalf("the backup holds %d users of acme, want 50", n)
		}
		if _, errOut, code := c.run("", "backup", file); code != 1 || !strings.Contains(errOut, "exists; choose a new file name") {
			t.Fatalf("a second backup to the same file: exit %d %s", code, errOut)
		}
		d.stop()
	})
}

// TestHealthcheck: `rosterd healthcheck` exits 0 while the daemon on
// http_addr is ready, and 1 saying why when none answers.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		d := c.serve()
		addr := strings.TrimPrefix(d.httpAddr(), "http://")
		env := c.env
		c.env = append(slices.Clone(env), "ROSTERD_HTTP_ADDR="+addr)
		if out, errOut, code := c.run("", "healthcheck"); code != 0 || strings.TrimSpace(out) != "ready" {
			t.Fatalf("healthcheck of a running daemon: exit %d %s%s", code, out, errOut)
		}
		d.stop()
		if _, errOut, code := c.run("", "healthcheck"); code != 1 || !strings.Contains(errOut, "not healthy: http://"+addr+"/readyz") {
			t.Fatalf("healthcheck with no daemon: exit %d %s, want 1 saying not healthy", code, errOut)
		}
		c.env = env
	})
}
