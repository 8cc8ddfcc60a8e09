package roster_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoDatabaseDependency keeps the roster rules out of reach of the
// database: store may import roster, never the reverse, so every rule is
// tested and fuzzed without one and holds for every door alike.
func TestNoDatabaseDependency(t *testing.T) {
	for _, dep := range listDeps(t) {
		if dep == "database/sql" || dep == "rosterd/store" || strings.HasPrefix(dep, "rosterd/store/") {
			t.Errorf("roster depends on %s; it must import neither database/sql nor rosterd/store", dep)
		}
	}
}

// listDeps is `go list -deps` of this package.
func listDeps(t *testing.T) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test runs `go list -deps`: put the go command on PATH (%v)", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps listed nothing")
	}
	return deps
}
