package main_test

import (
	"strings"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// Help is readable: no "[=true|false]" after every switch, and the ~25
// daemon settings are not repeated under every command — serve --help and
// the topic "rosterd help config" list them, every other help names the
// topic in one line — while the flags are still accepted everywhere.
func TestHelpIsReadable(t *testing.T) {
	c := newCLI(t, store.SQLite)
	for _, args := range [][]string{{"--help"}, {"import", "--help"}, {"import", "show", "--help"}, {"org", "create", "--help"},
		{"users", "export", "--help"}, {"help", "sync", "run"}} {
		out := c.ok(args...)
		for _, bad := range []string{"[=true|false]", "--sftp-ban-window", "--database-url", "--max-upload-bytes"} {
			if strings.Contains(out, bad) {
				t.Errorf("rosterd %s shows %q:\n%s", strings.Join(args, " "), bad, out)
			}
		}
		if !strings.Contains(out, `see "rosterd help config"`) || !strings.Contains(out, "-h, --help ") {
			t.Errorf("rosterd %s does not point at rosterd help config:\n%s", strings.Join(args, " "), out)
		}
	}
	if out := c.ok("import", "--help"); !strings.Contains(out, "      --dry-run             do everything but the final commit") {
		t.Errorf("import --help does not list --dry-run as a switch:\n%s", out)
	}
	for _, args := range [][]string{{"help", "config"}, {"serve", "--help"}} {
		out := c.ok(args...)
		for _, want := range []string{"--sftp-ban-window duration", "(env ROSTERD_SFTP_BAN_WINDOW)", "--database-url string", "--config string"} {
			if !strings.Contains(out, want) {
				t.Errorf("rosterd %s lacks %q:\n%s", strings.Join(args, " "), want, out)
			}
		}
		if strings.Contains(out, "[=true|false]") || strings.Count(out, "--config string") != 1 {
			t.Errorf("rosterd %s:\n%s", strings.Join(args, " "), out)
		}
	}
	// Still accepted where they were: a data command takes the daemon's flags.
	if out := c.ok("org", "list", "--database-url", storetest.URL(t, store.SQLite), "--log-level", "warn"); !strings.Contains(out, "NAME") {
		t.Errorf("org list with daemon flags:\n%s", out)
	}
}
