package importer

import (
	"slices"
	"testing"
)

// A reports-to chain longer than one block of edges, closed into a loop by
// its last link, is found whole: lookups cross block boundaries both ways,
// in the 8-byte edges and, once a stored user's id does not fit in 32 bits,
// in the 16-byte ones the list widens to.
func TestFindCyclesAcrossEdgeBlocks(t *testing.T) {
	t.Parallel()
	const n = 2*edgeBlock + 10 // lines 1..n, each managed by the next
	for _, wide := range []bool{false, true} {
		var edges edgeList
		if wide {
			// A stored user sorts first (its node is -id) and manages nobody
			// in the loop; its id widens the list before any line is added.
			edges.add(edge{child: -(1 << 40), parent: 1})
		}
		for line := int64(1); line <= n; line++ {
			parent := line + 1
			if line == n {
				parent = edgeBlock + 5 // the loop: edgeBlock+5 → … → n → edgeBlock+5
			}
			edges.add(edge{child: line, parent: parent})
		}
		want := n
		if wide {
			want++
		}
		if edges.n != want || edges.blocks() != 3 || (edges.wide != nil) != wide {
			t.Fatalf("wide=%v: %d edges in %d blocks (wide: %v); want %d in 3", wide, edges.n, edges.blocks(), edges.wide != nil, want)
		}
		if e := edges.at(0); wide && e.child != -(1<<40) {
			t.Fatalf("first edge %+v; want the stored user's, its id whole", e)
		}
		cycles := findCycles(&edges, func(l int64) bool { return l == 1 })
		if len(cycles) != 1 {
			t.Fatalf("wide=%v: found %d loops; want 1", wide, len(cycles))
		}
		c := cycles[0]
		if len(c) != n-edgeBlock-4 || c[0] != edgeBlock+5 || c[len(c)-1] != n || !slices.IsSorted(c) {
			t.Errorf("wide=%v: loop of %d nodes from %d to %d; want %d nodes from %d to %d", wide, len(c), c[0], c[len(c)-1], n-edgeBlock-4, edgeBlock+5, n)
		}
		if got := findCycles(&edges, func(l int64) bool { return false }); len(got) != 0 {
			t.Errorf("wide=%v: with no changed link, %d loops found", wide, len(got))
		}
	}
}

// A list that widens after holding narrow blocks keeps every edge it held,
// in order.
func TestEdgeListWidensKeepingEdges(t *testing.T) {
	t.Parallel()
	var edges edgeList
	const n = edgeBlock + 3
	for i := int64(1); i <= n; i++ {
		edges.add(edge{child: i, parent: -i})
	}
	if edges.wide != nil {
		t.Fatal("32-bit nodes widened the list")
	}
	edges.add(edge{child: n + 1, parent: -(1 << 33)})
	if edges.wide == nil || edges.narrow != nil {
		t.Fatal("a 34-bit node did not widen the list")
	}
	for i := int64(1); i <= n; i++ {
		if e := edges.at(int(i - 1)); e.child != i || e.parent != -i {
			t.Fatalf("edge %d after widening: %+v; want {%d %d}", i-1, e, i, -i)
		}
	}
	if e := edges.at(n); e.child != n+1 || e.parent != -(1<<33) {
		t.Fatalf("the widening edge: %+v", e)
	}
}
