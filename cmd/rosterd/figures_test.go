package main_test

import (
	"fmt"
	"strings"
	"testing"
)

// The command line's summary names the door as the pages and e-mails do,
// writes counts with thousands separators, and says "would create" for a
// dry run, where nothing was applied.
func TestCLISummaryFiguresForPeople(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		var b strings.Builder
		b.WriteString("external_id;first_name;last_name;country;preferred_language;business_email\n")
		for i := 1; i <= 1200; i++ {
			fmt.Fprintf(&b, "E%d;F;L;BE;nl;e%d@example.com\n", i, i)
		}
		out := c.ok("import", "--org", "acme", "--dry-run", c.write("roster.csv", b.String()))
		for _, want := range []string{"roster.csv, partial mode, door: Command line", "rows          1,200", "would create  1,200"} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "  created") {
			t.Errorf("a dry run's summary says created:\n%s", out)
		}
	})
}
