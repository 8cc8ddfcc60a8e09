// Command testsummary reads `go test -json` on standard input and prints
// what a developer or CI reader needs from a long run: each package's
// result line as plain go test prints it, the output of every failed test,
// then at the end the ten slowest tests, the skipped tests grouped by the
// reason they gave, and the failed tests again with their output. It exists
// so that `make test` (through scripts/gotest) says where the suite's
// minutes go and why a test did not run, without a third-party tool.
//
// It always exits 0 once its input ends: scripts/gotest returns go test's
// own exit status, so a failure is never hidden or invented here.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json's TestEvent).
type event struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type key struct{ pkg, test string }

// result is one finished test.
type result struct {
	key
	elapsed float64
}

// summary accumulates a run.
type summary struct {
	output  map[key]*strings.Builder // each running test's output so far
	passed  []result
	failed  []result
	failOut map[key]string
	skipped map[string][]key // reason → tests
	pkgFail []string         // packages that failed without a failed test (build, panic in TestMain, timeout)
	pkgOut  map[string]*strings.Builder
	subMax  map[key]float64 // the longest time of each test's subtests so far
}

func newSummary() *summary {
	return &summary{output: map[key]*strings.Builder{}, failOut: map[key]string{},
		skipped: map[string][]key{}, pkgOut: map[string]*strings.Builder{}, subMax: map[key]float64{}}
}

// skipLine is the line t.Skip writes: "    file_test.go:12: reason".
var skipLine = regexp.MustCompile(`^\s+[\w.-]+\.go:\d+: (.*)$`)

// add takes one event; it writes what a reader should see now to w.
func (s *summary) add(w io.Writer, e event) {
	k := key{e.Package, e.Test}
	switch e.Action {
	case "build-output":
		fmt.Fprint(w, e.Output)
	case "output":
		if e.Test == "" {
			b := s.pkgOut[e.Package]
			if b == nil {
				b = &strings.Builder{}
				s.pkgOut[e.Package] = b
			}
			b.WriteString(e.Output)
			// go test's own package lines: ok, FAIL, "?" (no test files).
			if strings.HasPrefix(e.Output, "ok  ") || strings.HasPrefix(e.Output, "FAIL\t") ||
				strings.HasPrefix(e.Output, "?   ") {
				fmt.Fprint(w, e.Output)
			}
			return
		}
		b := s.output[k]
		if b == nil {
			b = &strings.Builder{}
			s.output[k] = b
		}
		b.WriteString(e.Output)
	case "pass":
		if e.Test == "" {
			return
		}
		s.passed = append(s.passed, result{k, s.elapsed(k, e)})
		delete(s.output, k)
	case "skip":
		if e.Test == "" {
			return
		}
		reason := skipReason(s.output[k])
		s.skipped[reason] = append(s.skipped[reason], k)
		delete(s.output, k)
	case "fail":
		if e.Test == "" {
			failedTest := false
			for _, f := range s.failed {
				if f.pkg == e.Package {
					failedTest = true
					break
				}
			}
			if !failedTest {
				s.pkgFail = append(s.pkgFail, e.Package)
				// No test to blame: the package's own output says why.
				if b := s.pkgOut[e.Package]; b != nil {
					fmt.Fprint(w, b.String())
				}
			}
			return
		}
		out := ""
		if b := s.output[k]; b != nil {
			out = b.String()
		}
		s.failed = append(s.failed, result{k, s.elapsed(k, e)})
		s.failOut[k] = out
		delete(s.output, k)
		if !strings.Contains(e.Test, "/") {
			fmt.Fprintf(w, "=== %s failed in %s:\n%s", e.Test, e.Package, indentIfBare(out))
		}
	}
}

// elapsed is how long the test ran: go test's Elapsed, which leaves out the
// parallel subtests a test waits for after its function returned (it says
// 0.00s for a test whose two databases run side by side), or its longest
// subtest's time if that is longer. A subtest's own time goes to its parent.
func (s *summary) elapsed(k key, e event) float64 {
	d := max(e.Elapsed, s.subMax[k])
	delete(s.subMax, k)
	if i := strings.LastIndex(k.test, "/"); i >= 0 {
		parent := key{k.pkg, k.test[:i]}
		s.subMax[parent] = max(s.subMax[parent], d)
	}
	return d
}

// skipReason is the message of the test's t.Skip: its last "file.go:N:" line.
func skipReason(b *strings.Builder) string {
	if b == nil {
		return "(no reason given)"
	}
	reason := "(no reason given)"
	for _, line := range strings.Split(b.String(), "\n") {
		if m := skipLine.FindStringSubmatch(line); m != nil {
			reason = m[1]
		}
	}
	return reason
}

func indentIfBare(s string) string {
	if s == "" {
		return "    (no output)\n"
	}
	return s
}

// topLevel keeps the tests that are not subtests: a parent's time includes
// its subtests', so ranking both would list each slow test twice.
func topLevel(rs []result) []result {
	var out []result
	for _, r := range rs {
		if !strings.Contains(r.test, "/") {
			out = append(out, r)
		}
	}
	return out
}

// report writes the closing summary.
func (s *summary) report(w io.Writer, slowest int) {
	all := topLevel(append(append([]result{}, s.passed...), s.failed...))
	sort.SliceStable(all, func(i, j int) bool { return all[i].elapsed > all[j].elapsed })
	if len(all) > slowest {
		all = all[:slowest]
	}
	fmt.Fprintf(w, "\n== the %d slowest tests\n", len(all))
	for _, r := range all {
		fmt.Fprintf(w, "%8.1fs  %s  %s\n", r.elapsed, r.test, r.pkg)
	}

	nSkipped := 0
	reasons := make([]string, 0, len(s.skipped))
	for r, ks := range s.skipped {
		reasons = append(reasons, r)
		nSkipped += len(ks)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if len(s.skipped[reasons[i]]) != len(s.skipped[reasons[j]]) {
			return len(s.skipped[reasons[i]]) > len(s.skipped[reasons[j]])
		}
		return reasons[i] < reasons[j]
	})
	fmt.Fprintf(w, "\n== %d skipped tests, by reason\n", nSkipped)
	for _, r := range reasons {
		ks := s.skipped[r]
		fmt.Fprintf(w, "%d: %s\n", len(ks), r)
		for _, k := range ks {
			fmt.Fprintf(w, "    %s  %s\n", k.test, k.pkg)
		}
	}

	fmt.Fprintf(w, "\n== %d failed tests\n", len(s.failed))
	for _, r := range s.failed {
		fmt.Fprintf(w, "--- FAIL: %s  %s (%.2fs)\n%s", r.test, r.pkg, r.elapsed, indentIfBare(s.failOut[r.key]))
	}
	for _, p := range s.pkgFail {
		fmt.Fprintf(w, "FAIL %s (the package failed outside any test; its output is above)\n", p)
	}
	// Tests still running when the input ended (a timeout's panic, a crash).
	var unfinished []key
	for k := range s.output {
		unfinished = append(unfinished, k)
	}
	sort.Slice(unfinished, func(i, j int) bool {
		return unfinished[i].pkg+unfinished[i].test < unfinished[j].pkg+unfinished[j].test
	})
	for _, k := range unfinished {
		fmt.Fprintf(w, "--- NOT FINISHED: %s  %s\n%s", k.test, k.pkg, s.output[k].String())
	}
	fmt.Fprintf(w, "\n%d passed, %d failed, %d skipped\n", len(s.passed), len(s.failed), nSkipped)
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
	}
}

// run copies the events of r to w as a reader should see them, then the
// closing summary.
func run(r io.Reader, w io.Writer) error {
	s := newSummary()
	in := bufio.NewScanner(r)
	in.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	out := bufio.NewWriter(w)
	for in.Scan() {
		line := in.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event (go test's own messages): shown as it came.
			out.Write(line)
			out.WriteByte('\n')
			out.Flush()
			continue
		}
		s.add(out, e)
		out.Flush()
	}
	s.report(out, 10)
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := in.Err(); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}
