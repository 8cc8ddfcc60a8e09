package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// binary is rosterd built once for the whole test run, so the tests use the
// command line exactly as an operator does: built as the Dockerfile builds
// it, static (CGO_ENABLED=0) and stamped with testVersion.
var binary string

// testVersion is stamped into the test binary as make and the Dockerfile
// stamp git describe.
const testVersion = "v0.0.0-test-stamp"

func TestMain(m *testing.M) {
	flag.Parse()
	parallelBeyondCores()
	if testing.Short() {
		// make check: no test here may start rosterd (needBinary skips
		// them), so there is nothing to build.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "rosterd-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "rosterd")
	build := exec.Command("go", "build", "-ldflags", "-X main.version="+testVersion, "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		panic("build rosterd: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// parallelBeyondCores runs 3 tests per core side by side, unless go test was
// given -parallel: go test's default, one per core, suits tests that
// compute, but most tests here wait on other processes (a daemon's liveness
// timings, an import in a subprocess, Chromium, LibreOffice, OpenSSH), so
// with two of them at a time the cores idled (make test on 2 cores:
// cmd/rosterd 300 s alone, at 3 per core 175 s).
func parallelBeyondCores() {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", strconv.Itoa(3*runtime.GOMAXPROCS(0))); err != nil {
			panic(err)
		}
	}
}

// cli runs rosterd against one fresh database.
//
// Every top-level test here runs in parallel with the others (t.Parallel):
// each owns its database (storetest.URL: a SQLite file or a PostgreSQL
// schema of its own), its data directory (t.TempDir) and its ports
// (127.0.0.1:0), and none changes the process's environment; a new test
// keeps to that.
type cli struct {
	t       *testing.T
	dir     string
	env     []string
	dialect store.Dialect
}

// needBinary skips the test under -short (make check): it runs the rosterd
// binary, a real process, and make check runs none. Every test that starts
// rosterd comes through here (newCLI calls it).
func needBinary(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs the rosterd binary (real processes)")
	}
}

func newCLI(t *testing.T, d store.Dialect) *cli {
	needBinary(t)
	dir := t.TempDir()
	return &cli{t: t, dir: dir, dialect: d, env: append(os.Environ(),
		"ROSTERD_DATA_DIR="+filepath.Join(dir, "data"), "ROSTERD_DATABASE_URL="+storetest.URL(t, d),
		// The tests read the text log; stderr is a pipe, where auto means JSON.
		"ROSTERD_LOG_FORMAT=text")}
}

// run executes rosterd with args and stdin; it returns stdout, stderr and the exit code.
func (c *cli) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env, cmd.Dir = c.env, c.dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run rosterd %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run("", args...)
	if code != 0 {
		c.t.Fatalf("rosterd %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (c *cli) write(name, content string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *cli) read(name string) string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

func eachDialect(t *testing.T, fn func(t *testing.T, c *cli)) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, newCLI(t, d)) })
	}
}

// eachDialectSideBySide is eachDialect with the two databases' runs side by
// side (parallel subtests, each with its own database, directory, ports and
// mail server): for the tests that mostly wait, for a killed daemon's work
// to be taken over or a large import in a daemon, which one after the other
// waited twice as long.
func eachDialectSideBySide(t *testing.T, fn func(t *testing.T, c *cli)) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, newCLI(t, d))
		})
	}
}

type importJSON struct {
	ID     string         `json:"id"`
	Status string         `json:"status"`
	Error  *string        `json:"error"`
	Counts map[string]int `json:"counts"`
	URL    *string        `json:"errors_csv_url"`
	Held   *struct {
		Reason        string `json:"reason"`
		ArchiveCSVURL string `json:"archive_csv_url"`
	} `json:"held"`
}

// holdSync imports ten users whose ids start with prefix, then a full sync
// naming the first seven (seven.csv), which an organisation made with a
// 10% archive threshold holds. It returns the sync's import and exit code.
func holdSync(t *testing.T, c *cli, prefix string) (importJSON, int) {
	t.Helper()
	var all strings.Builder
	all.WriteString("external_id;first_name;last_name;country;preferred_language;private_email\n")
	for i := range 10 {
		fmt.Fprintf(&all, "%s%d;F;L;BE;en;%s%d@example.com\n", prefix, i, strings.ToLower(prefix), i)
	}
	c.ok("import", "--org", "acme", c.write("all.csv", all.String()))
	seven := strings.Join(strings.SplitAfter(all.String(), "\n")[:8], "")
	out, _, code := c.run("", "import", "--org", "acme", "--mode", "full", "--json", c.write("seven.csv", seven))
	return decodeImport(t, out), code
}

func decodeImport(t *testing.T, s string) importJSON {
	t.Helper()
	var im importJSON
	if err := json.Unmarshal([]byte(s), &im); err != nil {
		t.Fatalf("import JSON: %v\n%s", err, s)
	}
	return im
}

const badRoster = "external_id;first_name;last_name;country;preferred_language;business_email;business_mobile_phone\r\n" +
	"E1;Ann;Smith;BE;nl;ann@example.com;+32 470 12 34 56\r\n" +
	"E2;Bob;Jones;Belgium;nl;bob@example.com;\r\n" +
	"E3;Cy;Doe;BE;nl;cy@example;0470 12 34\r\n" +
	"E4;Di;Roe;BE;fr-BE;di@example.com;\r\n"

func TestErrorsCSVRoundTrip(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme", "--phone-region", "BE")
		in := c.write("roster.csv", badRoster)

		out, errOut, code := c.run("", "import", "--org", "acme", "--errors-out", "fix-me.csv", in)
		if code != 3 {
			t.Fatalf("first import: exit %d, want 3 (completed with errors)\n%s%s", code, out, errOut)
		}
		for _, want := range []string{"completed_with_errors", "line 3: country:", "line 4: business_email:", "line 4: business_mobile_phone:"} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
		first := c.read("fix-me.csv")
		lines := strings.Split(strings.TrimSuffix(first, "\r\n"), "\r\n")
		if len(lines) != 3 || lines[0] != "external_id;first_name;last_name;country;preferred_language;business_email;business_mobile_phone;errors" ||
			!strings.HasPrefix(lines[1], "E2;Bob;Jones;Belgium;nl;bob@example.com;;") || !strings.HasPrefix(lines[2], "E3;Cy;Doe;BE;nl;cy@example;0470 12 34;") {
			t.Fatalf("errors CSV is not the failed rows as uploaded plus errors:\n%s", first)
		}

		// Uploaded again as it is: the same failures, the errors column ignored.
		_, _, code = c.run("", "import", "--org", "acme", "--errors-out", "again.csv", filepath.Join(c.dir, "fix-me.csv"))
		if code != 3 || c.read("again.csv") != first {
			t.Fatalf("re-upload as is: exit %d, errors CSV\n%s\nwant the same as\n%s", code, c.read("again.csv"), first)
		}

		// Fixed in place, errors column left: it imports cleanly.
		fixed := strings.Replace(strings.Replace(first, ";Belgium;", ";BE;", 1), "cy@example;0470 12 34", "cy@example.com;0470 12 34 56", 1)
		c.write("fixed.csv", fixed)
		out, errOut, code = c.run("", "import", "--org", "acme", "--json", filepath.Join(c.dir, "fixed.csv"))
		im := decodeImport(t, out)
		if code != 0 || im.Status != "succeeded" || im.Counts["created"] != 2 || im.URL != nil {
			t.Fatalf("fixed file: exit %d %+v\n%s", code, im, errOut)
		}
	})
}

func TestExportReimportsAsUnchangedFullRoster(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme", "--phone-region", "BE", "--time-zone", "Europe/Brussels")
		in := c.write("roster.csv", "External ID,First Name,Last Name,Country,Preferred Language,Business Email,Business Mobile Phone,Department EN,Department NL,Manager\n"+
			"E1,Ann,Smith,be,NL,Ann.Smith@Example.COM,0470 12 34 56,Sales,Verkoop,\n"+
			"E2,Bob,Jones,BE,fr_be,BOB@example.com,0032 470 65 43 21,,,E1\n")
		c.ok("import", "--org", "acme", in)
		export := c.ok("users", "export", "--org", "acme")
		want := "\uFEFFexternal_id;first_name;last_name;country;preferred_language;authentication_type;business_email;business_mobile_phone;manager;department_en;department_nl;archived_at;status\r\n" +
			"E1;Ann;Smith;BE;nl;username_password;ann.smith@example.com;+32470123456;;Sales;Verkoop;;active\r\n" +
			"E2;Bob;Jones;BE;fr-BE;username_password;bob@example.com;+32470654321;E1;;;;active\r\n"
		if export != want {
			t.Fatalf("export =\n%s\nwant\n%s", export, want)
		}
		c.write("export.csv", export)
		out := c.ok("import", "--org", "acme", "--mode", "full", "--json", filepath.Join(c.dir, "export.csv"))
		if im := decodeImport(t, out); im.Status != "succeeded" || im.Counts["unchanged"] != 2 || im.Counts["rows"] != 2 {
			t.Errorf("re-import of the export = %+v", im)
		}
	})
}

func TestImportExitCodesAndHeldApproval(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme", "--archive-threshold-percent", "10", "--archive-threshold-min", "1")
		var b strings.Builder
		b.WriteString("external_id;first_name;last_name;country;preferred_language;private_email\n")
		for i := range 10 {
			b.WriteString(strings.ReplaceAll("EX;F;L;BE;en;x@example.com\n", "X", string(rune('0'+i))))
		}
		c.ok("import", "--org", "acme", c.write("all.csv", b.String()))

		_, _, code := c.run("", "import", "--org", "acme", "--mode", "full", c.write("empty.csv", "external_id;first_name;last_name;country;preferred_language\n"))
		if code != 1 {
			t.Errorf("empty full roster: exit %d, want 1", code)
		}
		seven := strings.Join(strings.SplitAfter(b.String(), "\n")[:8], "")
		out, _, code := c.run("", "import", "--org", "acme", "--mode", "full", "--json", c.write("seven.csv", seven))
		held := decodeImport(t, out)
		if code != 4 || held.Status != "held" || held.Counts["archived"] != 3 {
			t.Fatalf("3 of 10 missing: exit %d %+v, want held (4)", code, held)
		}
		if held.Held == nil || !strings.Contains(held.Held.Reason, "would archive 3 of 10 active users") ||
			!strings.HasSuffix(held.Held.ArchiveCSVURL, "/api/v1/imports/"+held.ID+"/archive.csv") {
			t.Errorf("held JSON = %+v", held.Held)
		}
		if got := strings.Count(c.ok("users", "export", "--org", "acme", "--status", "archived"), "archived\r\n"); got != 0 {
			t.Errorf("a held sync archived %d users", got)
		}
		// import show says whom the hold would archive: what an approval applies.
		if show := c.ok("import", "show", held.ID); !strings.Contains(show, "it would archive 3 users") ||
			!strings.Contains(show, "would archive 3 of 10 active users") || !strings.Contains(show, "E7\tF L\t") || !strings.Contains(show, "E9\t") {
			t.Errorf("import show of a held sync:\n%s", show)
		}
		out, _, code = c.run("", "import", "approve", held.ID, "--json")
		if im := decodeImport(t, out); code != 0 || im.Status != "succeeded" || im.Counts["archived"] != 3 {
			t.Errorf("approve: exit %d %+v", code, im)
		}
		if got := strings.Count(c.ok("users", "export", "--org", "acme", "--status", "archived"), "archived\r\n"); got != 3 {
			t.Errorf("%d archived users after approval, want 3", got)
		}
		if show := decodeImport(t, c.ok("import", "show", held.ID, "--json")); show.Status != "succeeded" {
			t.Errorf("import show = %+v", show)
		}
		var list []importJSON
		if err := json.Unmarshal([]byte(c.ok("import", "list", "--org", "acme", "--json")), &list); err != nil || len(list) != 3 || list[0].ID != held.ID {
			t.Errorf("import list = %+v, %v", list, err)
		}
	})
}

// TestImportShowOfAnImportThatNeverRan: the summary of a failed import,
// and `import show` of one cancelled before it ran, say nothing was applied
// instead of counts of zero ("rows 0"); a cancelled held sync keeps its
// counts, as what it would have done; --json keeps every count.
func TestImportShowOfAnImportThatNeverRan(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme", "--archive-threshold-percent", "10", "--archive-threshold-min", "1")
		noCounts := func(what, out, says string) {
			t.Helper()
			if !strings.Contains(out, says) {
				t.Errorf("%s does not say %q:\n%s", what, says, out)
			}
			for _, s := range []string{"\n  rows ", "\n  created ", "\n  failed "} {
				if strings.Contains(out, s) {
					t.Errorf("%s shows counts (%q):\n%s", what, s, out)
				}
			}
		}
		out, _, code := c.run("", "import", "--org", "acme", "--mode", "full", c.write("empty.csv", "external_id;first_name;last_name;country;preferred_language\n"))
		if code != 1 {
			t.Fatalf("empty full roster: exit %d, want 1\n%s", code, out)
		}
		noCounts("the summary of a failed import", out, "  nothing was applied: the error says why\n")

		id := strings.TrimSpace(c.ok("import", "--org", "acme", "--detach", c.write("two.csv", "external_id;first_name;last_name;country;preferred_language;private_email\nE1;F;L;BE;en;a@example.com\n")))
		c.ok("import", "cancel", id)
		noCounts("import show of an import cancelled before it ran", c.ok("import", "show", id),
			"  nothing was applied: it was cancelled before its rows were counted\n")
		if im := decodeImport(t, c.ok("import", "show", id, "--json")); im.Status != "cancelled" || len(im.Counts) != 7 || im.Counts["rows"] != 0 {
			t.Errorf("import show --json of the cancelled import = %+v, want every count", im)
		}

		held, _ := holdSync(t, c, "E")
		c.ok("import", "cancel", held.ID)
		if show := c.ok("import", "show", held.ID); !strings.Contains(show, "\n  would archive 3") || !strings.Contains(show, "\n  rows ") {
			t.Errorf("import show of a cancelled held sync lacks its counts:\n%s", show)
		}
	})
}

// TestImportListInWords: `rosterd import list` names the door and writes
// the counts as import show, the page and the e-mail do ("Command line",
// 1,200); --json keeps them raw.
func TestImportListInWords(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		var b strings.Builder
		b.WriteString("external_id;first_name;last_name;country;preferred_language;private_email\n")
		for i := range 1200 {
			fmt.Fprintf(&b, "E%d;F;L;BE;en;e%d@example.com\n", i, i)
		}
		c.ok("import", "--org", "acme", c.write("big.csv", b.String()))
		out := c.ok("import", "list", "--org", "acme")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.Contains(lines[1], "  Command line  ") || !regexp.MustCompile(`big\.csv +1,200 +1,200 +0 `).MatchString(lines[1]) ||
			strings.Contains(lines[1], " cli ") || strings.Contains(lines[1], "1200") {
			t.Errorf("import list:\n%s\nwant the door as Command line and 1,200 rows created", out)
		}
		var list []struct {
			Door   string         `json:"door"`
			Counts map[string]int `json:"counts"`
		}
		if err := json.Unmarshal([]byte(c.ok("import", "list", "--org", "acme", "--json")), &list); err != nil ||
			len(list) != 1 || list[0].Door != "cli" || list[0].Counts["rows"] != 1200 {
			t.Errorf("import list --json = %+v, %v; want door cli, 1200 rows", list, err)
		}
	})
}

func TestTokenAndAdminCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t, store.SQLite)
	c.ok("org", "create", "acme", "--name", "Acme")
	token := c.ok("token", "create", "--org", "acme", "--name", "script")
	if !strings.HasPrefix(token, "rst_") || strings.Count(token, "\n") != 1 {
		t.Errorf("token create printed %q; want the token alone on a line", token)
	}
	if _, errOut, code := c.run("", "admin", "create", "--org", "acme", "--email", "Admin@Acme.test"); code == 0 || !strings.Contains(errOut, "no password on standard input") {
		t.Errorf("admin create without a password: exit %d %s", code, errOut)
	}
	if out, errOut, code := c.run("s3cret-password\n", "admin", "create", "--org", "acme", "--email", "Admin@Acme.test"); code != 0 || !strings.Contains(out, "admin admin@acme.test created") {
		t.Errorf("admin create: exit %d %s %s", code, out, errOut)
	}
	if _, errOut, code := c.run("", "org", "create", "bad org", "--name", "X", "--time-zone", "Mars/Base"); code == 0 ||
		!strings.Contains(errOut, `organisation id "bad org"`) || !strings.Contains(errOut, `time_zone: "Mars/Base" is not an IANA time zone`) {
		t.Errorf("org create with bad settings: exit %d %s", code, errOut)
	}
	if tmpl := c.ok("template"); !strings.HasPrefix(tmpl, "external_id;first_name;last_name;country;preferred_language;") || strings.Count(tmpl, "\n") != 1 {
		t.Errorf("template = %q", tmpl)
	}
}
