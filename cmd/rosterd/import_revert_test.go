package main_test

import (
	"strings"
	"testing"
)

// `rosterd import revert` applies here like `import` (summary, exit codes),
// previews with --dry-run, refuses a second revert, is held like a sync when
// it would archive many, and leaves it to a daemon with --detach.
func TestImportRevertCommand(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme", "--archive-threshold-percent", "10", "--archive-threshold-min", "1")
		const head = "external_id;first_name;last_name;country;preferred_language;private_email\n"
		created := decodeImport(t, c.ok("import", "--org", "acme", "--json", c.write("all.csv", head+
			"E1;Ann;Lee;BE;en;ann@example.com\nE2;Bob;Ray;BE;en;bob@example.com\n")))
		changed := decodeImport(t, c.ok("import", "--org", "acme", "--json", c.write("one.csv", head+"E1;Ann;Lee;BE;en;ann@new.example.com\n")))
		if changed.Counts["updated"] != 1 {
			t.Fatalf("update = %+v", changed)
		}

		out, _, code := c.run("", "import", "revert", changed.ID, "--dry-run", "--json")
		if im := decodeImport(t, out); code != 0 || im.Status != "succeeded" || im.Counts["updated"] != 1 {
			t.Fatalf("dry-run revert: exit %d %+v", code, im)
		}
		if !strings.Contains(c.ok("users", "export", "--org", "acme"), "ann@new.example.com") {
			t.Errorf("the dry-run revert applied")
		}
		out, _, code = c.run("", "import", "revert", changed.ID)
		if code != 0 || !strings.Contains(out, "revert of "+changed.ID+", revert mode, door: Revert") || !strings.Contains(out, "updated   1") {
			t.Errorf("revert: exit %d\n%s", code, out)
		}
		if show := c.ok("users", "export", "--org", "acme"); !strings.Contains(show, "ann@example.com") || strings.Contains(show, "ann@new.example.com") {
			t.Errorf("E1 after the revert:\n%s", show)
		}
		_, errOut, code := c.run("", "import", "revert", changed.ID)
		if code != 1 || !strings.Contains(errOut, "was already reverted by import") {
			t.Errorf("second revert: exit %d %s", code, errOut)
		}

		// Archiving both users is past the threshold: held, exit 4.
		out, _, code = c.run("", "import", "revert", created.ID, "--json")
		if im := decodeImport(t, out); code != 4 || im.Status != "held" || im.Held == nil || !strings.Contains(im.Held.Reason, "this revert would archive 2 of 2 active users") {
			t.Errorf("revert of the creation: exit %d %+v", code, im)
		}
	})
}
