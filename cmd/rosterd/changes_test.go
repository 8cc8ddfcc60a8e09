package main_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// changeJSON is the change object of SPEC §5.1, as a script reads it.
type changeJSON struct {
	ImportID   *string `json:"import_id"`
	Kind       string  `json:"kind"`
	ExternalID string  `json:"external_id"`
	FirstName  string  `json:"first_name"`
	LastName   string  `json:"last_name"`
	Line       *int64  `json:"line"`
	Fields     []struct {
		Column, Old, New string
	} `json:"fields"`
	Messages []string `json:"messages"`
	Warnings []string `json:"warnings"`
	Preview  bool     `json:"preview"`
	Actor    string   `json:"actor"`
	At       string   `json:"at"`
}

func decodeChanges(t *testing.T, s string) []changeJSON {
	t.Helper()
	var list []changeJSON
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		t.Fatalf("change JSON: %v\n%s", err, s)
	}
	return list
}

const journalHeader = "external_id;first_name;last_name;country;preferred_language;private_email;department_en\n"

// TestImportChangesCommand: `rosterd import changes` shows what an import
// did, a line per user with each field old → new and each message; --kind
// keeps one kind and names the valid ones when given another; --json gives
// the change objects of the API; --csv the change list a spreadsheet opens
// safely; a dry run's changes say they are a preview; with --org, another
// organisation's import is not found.
func TestImportChangesCommand(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		c.ok("org", "create", "other", "--name", "Other")
		out, _, code := c.run("", "import", "--org", "acme", "--json", c.write("a.csv", journalHeader+
			"E1;Ann;Smith;BE;en;a@example.com;Sales\nE2;Bob;Jones;BE;en;b@example.com;\nE3;Cy;Doe;XX;en;c@example.com;\n"+
			"E4;Di;Roe;BE;en;d@example.com;\nE5;=1+2;Eq;BE;en;e@example.com;\n"))
		first := decodeImport(t, out)
		if code != 3 || first.Counts["failed"] != 1 {
			t.Fatalf("first import: exit %d %+v", code, first)
		}
		out, _, code = c.run("", "import", "--org", "acme", "--mode", "full", "--json", c.write("b.csv", journalHeader+
			"E1;Ann;Smith;BE;en;a@example.com;Marketing\nE2;Bob;Jones;BE;en;b@example.com;\nE5;=1+2;Eq;BE;en;e@example.com;\n"))
		sync := decodeImport(t, out)
		if code != 0 || sync.Counts["updated"] != 1 || sync.Counts["archived"] != 1 {
			t.Fatalf("sync: exit %d %+v", code, sync)
		}

		table := c.ok("import", "changes", sync.ID)
		lines := strings.Split(strings.TrimSpace(table), "\n")
		if len(lines) != 4 || lines[0] != "import "+sync.ID+": 0 failed, 0 created, 1 updated, 1 archived, 0 restored" ||
			!regexp.MustCompile(`^KIND +ID +NAME +LINE +CHANGE$`).MatchString(lines[1]) ||
			!regexp.MustCompile(`^updated +E1 +Ann Smith +2 +department_en: Sales → Marketing$`).MatchString(lines[2]) ||
			!regexp.MustCompile(`^archived +E4 +Di Roe *$`).MatchString(lines[3]) {
			t.Errorf("import changes of the sync:\n%s", table)
		}
		failed := c.ok("import", "changes", first.ID, "--kind", "failed")
		if lines := strings.Split(strings.TrimSpace(failed), "\n"); len(lines) != 3 ||
			!regexp.MustCompile(`^failed +E3 +Cy Doe +4 +country: "XX" is not an ISO 3166-1 alpha-2 country code`).MatchString(lines[2]) {
			t.Errorf("import changes --kind failed:\n%s", failed)
		}

		list := decodeChanges(t, c.ok("import", "changes", sync.ID, "--json"))
		if len(list) != 2 {
			t.Fatalf("import changes --json: %+v", list)
		}
		u, a := list[0], list[1]
		if u.ImportID == nil || *u.ImportID != sync.ID || u.Kind != "updated" || u.ExternalID != "E1" || u.FirstName != "Ann" ||
			u.LastName != "Smith" || u.Line == nil || *u.Line != 2 || len(u.Fields) != 1 || u.Fields[0].Column != "department_en" ||
			u.Fields[0].Old != "Sales" || u.Fields[0].New != "Marketing" || u.Preview || u.Actor != "cli" ||
			len(u.Messages) != 0 || u.Warnings == nil {
			t.Errorf("the update as JSON: %+v", u)
		}
		if at, err := time.Parse(time.RFC3339, u.At); err != nil || !strings.HasSuffix(u.At, "Z") || time.Since(at) > time.Hour {
			t.Errorf("at = %q (%v), want RFC 3339 in UTC", u.At, err)
		}
		if a.Kind != "archived" || a.ExternalID != "E4" || a.Line != nil || len(a.Fields) != 0 {
			t.Errorf("the archive as JSON: %+v", a)
		}
		if f := decodeChanges(t, c.ok("import", "changes", first.ID, "--json", "--kind", "failed")); len(f) != 1 ||
			f[0].Line == nil || *f[0].Line != 4 || len(f[0].Messages) != 1 || !strings.HasPrefix(f[0].Messages[0], `country: "XX"`) {
			t.Errorf("the failed row as JSON: %+v", f)
		}

		csv := c.ok("import", "changes", first.ID, "--csv")
		want := "\uFEFFkind;external_id;first_name;last_name;line;column;old;new;messages\r\n"
		if !strings.HasPrefix(csv, want) || !strings.Contains(csv, "\r\ncreated;E1;Ann;Smith;2;;;;\r\n") ||
			!strings.Contains(csv, "\r\ncreated;E5;'=1+2;Eq;6;;;;\r\n") || !strings.Contains(csv, "\r\nfailed;E3;Cy;Doe;4;;;;\"country: ") {
			t.Errorf("import changes --csv:\n%q", csv)
		}
		if csv := c.ok("import", "changes", sync.ID, "--csv", "--kind", "updated"); csv != want+"updated;E1;Ann;Smith;2;department_en;Sales;Marketing;\r\n" {
			t.Errorf("import changes --csv --kind updated:\n%q", csv)
		}

		// A dry run records what it would do, and says so.
		out, _, _ = c.run("", "import", "--org", "acme", "--mode", "full", "--dry-run", "--json", c.write("c.csv", journalHeader+
			"E1;Ann;Smith;BE;en;a@example.com;Marketing\nE5;=1+2;Eq;BE;en;e@example.com;\n"))
		dry := decodeImport(t, out)
		if table := c.ok("import", "changes", dry.ID); !strings.Contains(table, "1 archived, 0 restored (a preview: nothing of it was applied") ||
			!regexp.MustCompile(`\narchived +E2 +Bob Jones`).MatchString(table) {
			t.Errorf("import changes of a dry run:\n%s", table)
		}
		if l := decodeChanges(t, c.ok("import", "changes", dry.ID, "--json")); len(l) != 1 || !l[0].Preview {
			t.Errorf("the dry run's change as JSON: %+v", l)
		}

		_, errOut, code := c.run("", "import", "changes", sync.ID, "--kind", "deleted")
		if code != 1 || !strings.Contains(errOut, `--kind "deleted" is not a kind of change: use failed, created, updated, archived or restored`) {
			t.Errorf("--kind deleted: exit %d %s", code, errOut)
		}
		if _, errOut, code := c.run("", "import", "changes", sync.ID, "--json", "--csv"); code != 1 || !strings.Contains(errOut, "--json and --csv") {
			t.Errorf("--json --csv: exit %d %s", code, errOut)
		}
		if _, errOut, code := c.run("", "import", "changes", sync.ID, "--org", "other"); code != 1 || !strings.Contains(errOut, "not found") {
			t.Errorf("another organisation's import: exit %d %s", code, errOut)
		}
		if out := c.ok("import", "changes", sync.ID, "--org", "acme"); out != table {
			t.Errorf("import changes --org acme:\n%s\nwant\n%s", out, table)
		}
	})
}

// TestUsersHistoryCommand: `rosterd users history` lists what three
// imports and a manual archive and restore (users archive/restore, by cli)
// did to a user, newest first, with who did it and which import or "by
// hand"; a dry run is not history; another organisation's user is not found.
func TestUsersHistoryCommand(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme", "--time-zone", "Europe/Brussels")
		c.ok("org", "create", "other", "--name", "Other")
		var ids []string
		for i, dept := range []string{"Sales", "Marketing", "Support"} {
			im := decodeImport(t, c.ok("import", "--org", "acme", "--json", c.write("r.csv", journalHeader+
				"E1;Ann;Smith;BE;en;a@example.com;"+dept+"\nE2;Bob;Jones;BE;en;b@example.com;\n")))
			if im.Status != "succeeded" {
				t.Fatalf("import %d: %+v", i, im)
			}
			ids = append(ids, im.ID)
		}
		c.ok("import", "--org", "acme", "--dry-run", c.write("dry.csv", journalHeader+"E1;Ann;Smith;BE;en;a@example.com;Legal\n"))
		if out := c.ok("users", "archive", "--org", "acme", "E1"); out != "user E1 archived\n" {
			t.Errorf("users archive: %q", out)
		}
		if out := c.ok("users", "restore", "--org", "acme", "E1"); out != "user E1 restored\n" {
			t.Errorf("users restore: %q", out)
		}

		out := c.ok("users", "history", "--org", "acme", "E1")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		when := `\d{4}-\d\d-\d\d \d\d:\d\d CES?T`
		for i, re := range []string{
			`^WHEN +KIND +BY +IMPORT +CHANGE$`,
			`^` + when + ` +restored +cli +by hand +archived_at: \S+ \S+ → \(empty\)$`,
			`^` + when + ` +archived +cli +by hand +archived_at: \(empty\) → `,
			`^` + when + ` +updated +cli +` + ids[2] + ` +department_en: Marketing → Support$`,
			`^` + when + ` +updated +cli +` + ids[1] + ` +department_en: Sales → Marketing$`,
			`^` + when + ` +created +cli +` + ids[0] + ` *$`,
		} {
			if i >= len(lines) || !regexp.MustCompile(re).MatchString(lines[i]) {
				t.Errorf("users history line %d does not match %s:\n%s", i, re, out)
			}
		}
		if len(lines) != 6 {
			t.Errorf("users history has %d lines, want 6 (the dry run is no history):\n%s", len(lines), out)
		}

		list := decodeChanges(t, c.ok("users", "history", "--org", "acme", "E1", "--json"))
		var kinds []string
		for _, e := range list {
			kinds = append(kinds, e.Kind)
		}
		if strings.Join(kinds, ",") != "restored,archived,updated,updated,created" || list[0].ImportID != nil || list[0].Line != nil ||
			list[0].Actor != "cli" || list[2].ImportID == nil || *list[2].ImportID != ids[2] {
			t.Errorf("users history --json = %+v", list)
		}

		if _, errOut, code := c.run("", "users", "history", "--org", "other", "E1"); code != 1 || !strings.Contains(errOut, `user "E1": not found`) {
			t.Errorf("another organisation's user: exit %d %s", code, errOut)
		}
		if _, errOut, code := c.run("", "users", "restore", "--org", "acme", "E1"); code != 1 || !strings.Contains(errOut, `user "E1" is active`) {
			t.Errorf("restore an active user: exit %d %s", code, errOut)
		}
		if _, errOut, code := c.run("", "users", "archive", "--org", "other", "E2"); code != 1 || !strings.Contains(errOut, `user "E2": not found`) {
			t.Errorf("archive another organisation's user: exit %d %s", code, errOut)
		}
		if got := c.ok("users", "history", "--org", "acme", "E2"); !strings.Contains(got, "created") || strings.Count(got, "\n") != 2 {
			t.Errorf("users history of E2:\n%s", got)
		}
	})
}

// TestImportShowSaysWhoSteeredIt: import show says who made an import and
// who approved it and when, or who cancelled it; --json carries the same.
func TestImportShowSaysWhoSteeredIt(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme", "--archive-threshold-percent", "10", "--archive-threshold-min", "1", "--time-zone", "UTC")
		c.ok("import", "--org", "acme", c.write("all.csv", journalHeader+"E1;A;A;BE;en;a@example.com;\nE2;B;B;BE;en;b@example.com;\nE3;C;C;BE;en;c@example.com;\n"))
		one := c.write("one.csv", journalHeader+"E1;A;A;BE;en;a@example.com;\n")
		out, _, _ := c.run("", "import", "--org", "acme", "--mode", "full", "--json", one)
		held := decodeImport(t, out)
		if held.Status != "held" {
			t.Fatalf("sync = %+v, want held", held)
		}
		// The held sync's preview: whom it would archive.
		if table := c.ok("import", "changes", held.ID, "--kind", "archived"); !strings.Contains(table, "(a preview: nothing of it was applied") ||
			!regexp.MustCompile(`\narchived +E2 +B B`).MatchString(table) {
			t.Errorf("import changes of a held sync:\n%s", table)
		}
		c.run("", "import", "approve", held.ID)
		show := c.ok("import", "show", held.ID)
		if !strings.Contains(show, "\n  by cli\n") || !regexp.MustCompile(`\n  approved by cli at \d{4}-\d\d-\d\d \d\d:\d\d UTC\n`).MatchString(show) ||
			strings.Contains(show, "cancelled by") {
			t.Errorf("import show of an approved sync:\n%s", show)
		}
		var trail struct {
			Actor, ApprovedBy, CancelledBy *string
			ApprovedAt                     *time.Time
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c.ok("import", "show", held.ID, "--json")), &raw); err != nil {
			t.Fatal(err)
		}
		for k, dst := range map[string]any{"actor": &trail.Actor, "approved_by": &trail.ApprovedBy, "approved_at": &trail.ApprovedAt, "cancelled_by": &trail.CancelledBy} {
			if err := json.Unmarshal(raw[k], dst); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		}
		if trail.Actor == nil || *trail.Actor != "cli" || trail.ApprovedBy == nil || *trail.ApprovedBy != "cli" || trail.ApprovedAt == nil || trail.CancelledBy != nil {
			t.Errorf("import show --json trail: %s %s %s %s", raw["actor"], raw["approved_by"], raw["approved_at"], raw["cancelled_by"])
		}

		id := strings.TrimSpace(c.ok("import", "--org", "acme", "--detach", one))
		c.ok("import", "cancel", id)
		if show := c.ok("import", "show", id); !strings.Contains(show, "\n  cancelled by cli\n") || strings.Contains(show, "approved by") {
			t.Errorf("import show of a cancelled import:\n%s", show)
		}
	})
}
