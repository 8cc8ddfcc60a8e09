package layers_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoDatabaseDependency keeps the layers a leaf: they read bytes and
// know no roster column and no database, so they can be tested on their own
// and no door can reach the store through it.
func TestNoDatabaseDependency(t *testing.T) {
	for _, dep := range listDeps(t) {
		switch {
		case dep == "database/sql", dep == "rosterd/store", strings.HasPrefix(dep, "rosterd/store/"), dep == "rosterd/roster":
			t.Errorf("layers depends on %s; it must import neither database/sql, rosterd/store nor rosterd/roster", dep)
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
