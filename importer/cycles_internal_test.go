package importer

import (
	"slices"
	"testing"
)

// A reports-to chain longer than one block of edges, closed into a loop by
// its last link, is found whole: lookups cross block boundaries both ways.
func TestFindCyclesAcrossEdgeBlocks(t *testing.T) {
	t.Parallel()
	const n = 2*edgeBlock + 10 // lines 1..n, each managed by the next
	var edges edgeList
	for line := int64(1); line <= n; line++ {
		parent := line + 1
		if line == n {
			parent = edgeBlock + 5 // the loop: edgeBlock+5 → … → n → edgeBlock+5
		}
		edges.add(edge{child: line, parent: parent})
	}
	if edges.n != n || len(edges.blocks) != 3 {
		t.Fatalf("%d edges in %d blocks; want %d in 3", edges.n, len(edges.blocks), n)
	}
	cycles := findCycles(&edges, func(l int64) bool { return l == 1 })
	if len(cycles) != 1 {
		t.Fatalf("found %d loops; want 1", len(cycles))
	}
	c := cycles[0]
	if len(c) != n-edgeBlock-4 || c[0] != edgeBlock+5 || c[len(c)-1] != n || !slices.IsSorted(c) {
		t.Errorf("loop of %d nodes from %d to %d; want %d nodes from %d to %d", len(c), c[0], c[len(c)-1], n-edgeBlock-4, edgeBlock+5, n)
	}
	if got := findCycles(&edges, func(l int64) bool { return false }); len(got) != 0 {
		t.Errorf("with no changed link, %d loops found", len(got))
	}
}
