package main_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Every e-mail keeps its own .eml file in the outbox: a held sync's e-mail
// and the outcome e-mail its approval sends are two files, neither
// overwriting the other.
func TestOutboxKeepsEveryEmailOfAnImport(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme", "--notify", "hr@acme.test", "--archive-threshold-percent", "10", "--archive-threshold-min", "1")
		head := "external_id;first_name;last_name;country;preferred_language;private_email\n"
		c.ok("import", "--org", "acme", c.write("all.csv", head+"E1;A;L;BE;en;a@example.com\nE2;B;L;BE;en;b@example.com\nE3;C;L;BE;en;c@example.com\n"))
		out, _, code := c.run("", "import", "--org", "acme", "--mode", "full", "--json", c.write("one.csv", head+"E1;A;L;BE;en;a@example.com\n"))
		held := decodeImport(t, out)
		if code != 4 || held.Status != "held" {
			t.Fatalf("full sync naming 1 of 3: exit %d %+v, want held", code, held)
		}
		c.ok("import", "approve", held.ID)

		outbox := filepath.Join(c.dir, "data", "outbox")
		entries, err := os.ReadDir(outbox)
		if err != nil {
			t.Fatal(err)
		}
		var subjects []string
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), held.ID) || !strings.HasSuffix(e.Name(), ".eml") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(outbox, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for line := range strings.SplitSeq(string(b), "\n") {
				if s, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), "Subject: "); ok {
					subjects = append(subjects, s)
				}
			}
		}
		sort.Strings(subjects)
		if len(subjects) != 2 || !strings.Contains(subjects[0], "full sync held") || !strings.Contains(subjects[1], "sync succeeded") {
			t.Errorf("the outbox holds %d e-mails of import %s with subjects %q; want two: the held one and the approved outcome (files: %v)",
				len(subjects), held.ID, subjects, entries)
		}
	})
}
