package importer

import (
	"math/rand/v2"
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

// A file's graph held as each line's parent (lineParents, a first import)
// finds the very loops the edge list finds: on a random roster of 20,000
// lines with managers, gaps (lines with no manager, or not in the graph at
// all) and loops of one, two and many, from the changed lines only.
func TestLineParentsFindTheSameLoops(t *testing.T) {
	t.Parallel()
	const last = 20000
	rng := rand.New(rand.NewPCG(1, 2))
	// Loops planted among the random links: of one line, of two, of five
	// (one of them not through a changed line), and one that changed lines
	// lead into from below.
	planted := map[int64]int64{700: 700, 1400: 1401, 1401: 1400, 3000: 3001, 3001: 3002, 3002: 3003, 3003: 3004, 3004: 3000,
		5001: 5002, 5002: 5001, 9100: 9101, 9101: 9100, 9800: 9100}
	var edges edgeList
	lines := newLineParents(last)
	for line := int64(2); line <= last; line++ { // line 1 is the header
		parent, ok := planted[line]
		if !ok {
			if rng.IntN(10) == 0 {
				continue // no manager, or a failed row: no edge
			}
			parent = int64(2 + rng.IntN(last-1))
			if rng.IntN(4) > 0 && line > 2 {
				parent = int64(2 + rng.IntN(int(line-2))) // mostly a line above: chains that end
			}
		}
		e := edge{child: line, parent: parent}
		edges.add(e)
		lines.add(e)
	}
	changed := func(l int64) bool { return l%7 == 0 }
	want := findCycles(&edges, changed)
	got := findCycles(lines, changed)
	if len(want) < 4 {
		t.Fatalf("the edge list found %d loops, want at least the 4 planted through changed lines: %v", len(want), want)
	}
	if !slices.EqualFunc(got, want, slices.Equal[[]int64]) {
		t.Errorf("lineParents found %d loops, the edge list %d:\n%v\n%v", len(got), len(want), got, want)
	}
}
