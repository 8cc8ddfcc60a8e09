package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// events is what `go test -json` printed for a package with a slow test,
// a fast one with a subtest, two tests skipped for one reason, one for
// another, and a failed test.
const events = `{"Action":"start","Package":"ex/a"}
{"Action":"run","Package":"ex/a","Test":"TestSlow"}
{"Action":"output","Package":"ex/a","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}
{"Action":"pass","Package":"ex/a","Test":"TestSlow","Elapsed":12.5}
{"Action":"run","Package":"ex/a","Test":"TestFast"}
{"Action":"run","Package":"ex/a","Test":"TestFast/sub"}
{"Action":"pass","Package":"ex/a","Test":"TestFast/sub","Elapsed":0.2}
{"Action":"pass","Package":"ex/a","Test":"TestFast","Elapsed":0.3}
{"Action":"run","Package":"ex/a","Test":"TestDaemon"}
{"Action":"output","Package":"ex/a","Test":"TestDaemon","Output":"=== RUN   TestDaemon\n"}
{"Action":"output","Package":"ex/a","Test":"TestDaemon","Output":"    cli_test.go:55: -short: needs the rosterd binary\n"}
{"Action":"output","Package":"ex/a","Test":"TestDaemon","Output":"--- SKIP: TestDaemon (0.00s)\n"}
{"Action":"skip","Package":"ex/a","Test":"TestDaemon","Elapsed":0}
{"Action":"output","Package":"ex/a","Test":"TestCluster","Output":"    cli_test.go:55: -short: needs the rosterd binary\n"}
{"Action":"skip","Package":"ex/a","Test":"TestCluster","Elapsed":0}
{"Action":"output","Package":"ex/a","Test":"TestSSH","Output":"    openssh_test.go:9: -short: needs OpenSSH\n"}
{"Action":"skip","Package":"ex/a","Test":"TestSSH","Elapsed":0}
{"Action":"output","Package":"ex/a","Test":"TestBroken","Output":"    x_test.go:7: want 2, got 3\n"}
{"Action":"output","Package":"ex/a","Test":"TestBroken","Output":"--- FAIL: TestBroken (1.00s)\n"}
{"Action":"fail","Package":"ex/a","Test":"TestBroken","Elapsed":1}
{"Action":"output","Package":"ex/a","Output":"FAIL\tex/a\t14.1s\n"}
{"Action":"fail","Package":"ex/a","Elapsed":14.1}
{"Action":"output","Package":"ex/b","Output":"ok  \tex/b\t0.5s\n"}
{"Action":"pass","Package":"ex/b","Elapsed":0.5}
`

func TestSummaryOfCannedEvents(t *testing.T) {
	var out bytes.Buffer
	if err := run(strings.NewReader(events), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"FAIL\tex/a\t14.1s\n", "ok  \tex/b\t0.5s\n", // go test's package lines
		"== the 3 slowest tests\n    12.5s  TestSlow  ex/a\n     1.0s  TestBroken  ex/a\n     0.3s  TestFast  ex/a\n",
		"== 3 skipped tests, by reason\n2: -short: needs the rosterd binary\n    TestDaemon  ex/a\n    TestCluster  ex/a\n1: -short: needs OpenSSH\n",
		"== 1 failed tests\n--- FAIL: TestBroken  ex/a (1.00s)\n    x_test.go:7: want 2, got 3\n",
		"\n3 passed, 1 failed, 3 skipped\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "TestFast/sub  ex/a") {
		t.Errorf("a subtest is ranked beside its parent:\n%s", got)
	}
	if strings.Contains(got, "=== RUN") {
		t.Errorf("a passing test's output is shown:\n%s", got)
	}
}

// TestGotestScript runs scripts/gotest on a throwaway module with a failing,
// a skipped and a passing test: it exits as go test does and prints the
// summary.
func TestGotestScript(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs the go tool to build and run a test module")
	}
	script, err := filepath.Abs("../gotest")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module ex\n\ngo 1.22\n",
		"ex_test.go": `package ex

import "testing"

func TestPasses(t *testing.T) {}

func TestSkips(t *testing.T) { t.Skip("needs a printer") }

func TestFails(t *testing.T) { t.Error("the answer is not 42") }
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		args []string
		code int
	}{{[]string{"-count=1", "."}, 1}, {[]string{"-count=1", "-run", "TestPasses|TestSkips", "."}, 0}} {
		cmd := exec.Command(script, c.args...)
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		out := string(b)
		if code != c.code {
			t.Errorf("scripts/gotest %v: exit %d, want go test's %d\n%s", c.args, code, c.code, out)
		}
		if !strings.Contains(out, "1: needs a printer\n    TestSkips  ex\n") {
			t.Errorf("scripts/gotest %v: the skipped test is not listed with its reason:\n%s", c.args, out)
		}
		if !regexp.MustCompile(`== the \d slowest tests\n +\d+\.\ds  Test`).MatchString(out) {
			t.Errorf("scripts/gotest %v: no slowest tests:\n%s", c.args, out)
		}
		if c.code == 1 && !strings.Contains(out, "--- FAIL: TestFails  ex") || c.code == 1 && !strings.Contains(out, "the answer is not 42") {
			t.Errorf("scripts/gotest %v: the failed test and its output are not in the summary:\n%s", c.args, out)
		}
	}
}

// TestParentOfParallelSubtestsRankedByItsLongest: go test says 0.00s for a
// test whose subtests ran in parallel after its function returned; the
// summary ranks it by its longest subtest.
func TestParentOfParallelSubtestsRankedByItsLongest(t *testing.T) {
	const events = `{"Time":"2026-12-06T10:00:00Z","Action":"run","Package":"ex/a","Test":"TestSides"}
{"Time":"2026-12-06T10:00:00Z","Action":"pause","Package":"ex/a","Test":"TestSides"}
{"Time":"2026-12-06T10:00:05Z","Action":"cont","Package":"ex/a","Test":"TestSides"}
{"Time":"2026-12-06T10:00:05Z","Action":"run","Package":"ex/a","Test":"TestSides/sqlite"}
{"Time":"2026-12-06T10:00:05Z","Action":"pause","Package":"ex/a","Test":"TestSides/sqlite"}
{"Time":"2026-12-06T10:00:05Z","Action":"run","Package":"ex/a","Test":"TestSides/postgres"}
{"Time":"2026-12-06T10:00:05Z","Action":"pause","Package":"ex/a","Test":"TestSides/postgres"}
{"Time":"2026-12-06T10:00:05Z","Action":"cont","Package":"ex/a","Test":"TestSides/sqlite"}
{"Time":"2026-12-06T10:00:09Z","Action":"cont","Package":"ex/a","Test":"TestSides/postgres"}
{"Time":"2026-12-06T10:00:45Z","Action":"pass","Package":"ex/a","Test":"TestSides/sqlite","Elapsed":40}
{"Time":"2026-12-06T10:00:48Z","Action":"pass","Package":"ex/a","Test":"TestSides/postgres","Elapsed":39}
{"Time":"2026-12-06T10:00:48Z","Action":"pass","Package":"ex/a","Test":"TestSides","Elapsed":0}
{"Time":"2026-12-06T10:00:48Z","Action":"run","Package":"ex/a","Test":"TestOther"}
{"Time":"2026-12-06T10:00:50Z","Action":"pass","Package":"ex/a","Test":"TestOther","Elapsed":1.5}
{"Time":"2026-12-06T10:00:47Z","Action":"pass","Package":"ex/a","Elapsed":47}
`
	var out bytes.Buffer
	if err := run(strings.NewReader(events), &out); err != nil {
		t.Fatal(err)
	}
	if want := "== the 2 slowest tests\n    40.0s  TestSides  ex/a\n     1.5s  TestOther  ex/a\n"; !strings.Contains(out.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, out.String())
	}
}
