package main_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"rosterd/store"
	"rosterd/store/storetest"
)

// Help is readable: no "[=true|false]" after every switch, and the ~25
// daemon settings are not repeated under every command — serve --help and
// the topic "rosterd help config" list them, every other help names the
// topic in one line — while the flags are still accepted everywhere.
func TestHelpIsReadable(t *testing.T) {
	t.Parallel()
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
	// Every command's help, found from the lists of the root's, and the
	// config topic fit a terminal: no line wider than 100 columns.
	var walk func(path ...string)
	walk = func(path ...string) {
		out := c.ok(append(slices.Clone(path), "--help")...)
		in := false
		for _, l := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(l); n > 100 {
				t.Errorf("rosterd %s --help has a line of %d columns:\n%s", strings.Join(path, " "), n, l)
			}
			switch {
			case l == "Available Commands:":
				in = true
			case l == "":
				in = false
			case in && strings.HasPrefix(l, "  ") && l[2] != ' ': // not a wrapped description
				walk(append(slices.Clone(path), strings.Fields(l)[0])...)
			}
		}
	}
	walk()
	for _, l := range strings.Split(c.ok("help", "config"), "\n") {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("rosterd help config has a line of %d columns:\n%s", n, l)
		}
	}
	// org update changes only the settings given: its help shows no default
	// (org create's does, as it starts from them).
	update, create := c.ok("org", "update", "--help"), c.ok("org", "create", "--help")
	for _, flag := range []string{"--schedule", "--time-zone", "--archive-threshold-percent", "--archive-threshold-min"} {
		if l := helpLine(update, flag); l == "" || strings.Contains(l, "(default") {
			t.Errorf("org update --help: %q", l)
		}
		if l := helpLine(create, flag); !strings.Contains(l, "(default") {
			t.Errorf("org create --help: %q, want its default", l)
		}
	}

	// Still accepted where they were: a data command takes the daemon's flags.
	if out := c.ok("org", "list", "--database-url", storetest.URL(t, store.SQLite), "--log-level", "warn"); !strings.Contains(out, "NAME") {
		t.Errorf("org list with daemon flags:\n%s", out)
	}
}

// helpLine is the help's description of flag, its wrapped lines joined.
func helpLine(help, flag string) string {
	lines := strings.Split(help, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), flag+" ") {
			continue
		}
		for _, more := range lines[i+1:] {
			if !strings.HasPrefix(more, "          ") {
				break
			}
			l += " " + strings.TrimSpace(more)
		}
		return l
	}
	return ""
}
