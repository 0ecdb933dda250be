package ir

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// smallModel builds: input x -> Conv(x, w, b) -> Relu -> output y.
func smallModel() *Model {
	g := NewGraph("small")
	x := g.AddInput("x", TensorType(Float, Symbolic("N"), Known(3), Known(8), Known(8)))
	w := g.AddInitializer(FromFloat32("w", []int64{4, 3, 1, 1}, make([]float32, 12)))
	b := g.AddInitializer(FromFloat32("b", []int64{4}, []float32{1, 2, 3, 4}))
	conv := g.NewNode("", "Conv", []*Value{x, w, b}, []string{"c"}, IntsAttr("kernel_shape", 1, 1))
	conv.Name = "conv0"
	g.Append(conv)
	relu := g.NewNode("", "Relu", []*Value{conv.Output(0)}, []string{"y"})
	g.Append(relu)
	g.Outputs = append(g.Outputs, relu.Output(0))
	relu.Output(0).Type = TensorType(Float, Symbolic("N"), Known(4), Known(8), Known(8))
	return &Model{IRVersion: 8, OpsetImports: []OpsetID{{"", 13}}, Graph: g}
}

func TestVerifyAcceptsWellFormed(t *testing.T) {
	m := smallModel()
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRejects(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(m *Model)
		want    string
	}{
		{"use list out of step", func(m *Model) {
			n := m.Graph.Nodes()[1]
			n.inputs[0] = m.Graph.Inputs[0] // edited by hand: x does not list the use
		}, "lists this use 0 times"},
		{"not topological", func(m *Model) {
			nodes := m.Graph.Nodes()
			m.Graph.nodes = []*Node{nodes[1], nodes[0]}
		}, "not in topological order"},
		{"duplicate name", func(m *Model) {
			m.Graph.Nodes()[1].Output(0).Name = "c"
		}, `"c" is defined twice`},
		{"output not defined", func(m *Model) {
			g2 := NewGraph("other")
			m.Graph.Outputs = append(m.Graph.Outputs, g2.AddInput("z", nil))
		}, "not visible"},
		{"initializer size", func(m *Model) {
			m.Graph.Initializers[1].Const = FromFloat32("b", []int64{5}, []float32{1, 2, 3, 4})
		}, "holds 16 bytes, want 20"},
		{"removed node listed", func(m *Model) {
			m.Graph.Nodes()[1].removed = true
		}, "removed node is still listed"},
		{"dangling use", func(m *Model) {
			g := m.Graph
			n := g.Nodes()[1]
			n.removed = true
			g.dirty = true
		}, "use by a removed node"},
		{"empty name", func(m *Model) {
			m.Graph.Inputs[0].Name = ""
		}, "has no name"},
		{"producer mismatch", func(m *Model) {
			m.Graph.Nodes()[0].Output(0).outIndex = 3
		}, "does not point back"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := smallModel()
			tc.breakIt(m)
			err := m.Verify()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestEdgesStayInStep(t *testing.T) {
	m := smallModel()
	g := m.Graph
	conv, relu := g.Nodes()[0], g.Nodes()[1]
	// Bypass the Relu: readers of y... y is a graph output, so replace the output instead.
	g.ReplaceOutput(0, conv.Output(0))
	if err := g.RemoveNode(relu); err != nil {
		t.Fatal(err)
	}
	if len(conv.Output(0).Uses()) != 0 {
		t.Fatalf("uses of c after removing its reader: %v", conv.Output(0).Uses())
	}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	if g.NumNodes() != 1 {
		t.Fatalf("NumNodes = %d, want 1", g.NumNodes())
	}
	if err := g.RemoveNode(conv); err == nil {
		t.Fatal("removing the producer of a graph output succeeded")
	}
}

func TestReplaceAllUsesWith(t *testing.T) {
	m := smallModel()
	g := m.Graph
	x := g.Inputs[0]
	id := g.NewNode("", "Identity", []*Value{x}, []string{"x2"})
	g.InsertBefore(g.Nodes()[0], id)
	x.ReplaceAllUsesWith(id.Output(0))
	// The Identity itself read x through SetInput during NewNode; it now reads itself.
	id.SetInput(0, x)
	if got := len(x.Uses()); got != 1 {
		t.Fatalf("x has %d uses, want 1", got)
	}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestSortTopologicallyIsStable(t *testing.T) {
	g := NewGraph("g")
	x := g.AddInput("x", TensorTypeOf(Float, 1))
	a := g.NewNode("", "Relu", []*Value{x}, []string{"a"})
	b := g.NewNode("", "Neg", []*Value{a.Output(0)}, []string{"b"})
	c := g.NewNode("", "Abs", []*Value{x}, []string{"c"})
	d := g.NewNode("", "Add", []*Value{b.Output(0), c.Output(0)}, []string{"d"})
	for _, n := range []*Node{d, c, b, a} {
		g.Append(n)
	}
	g.Outputs = []*Value{d.Output(0)}
	order, err := g.TopologicalOrder()
	if err != nil {
		t.Fatal(err)
	}
	if g.Nodes()[0] != d || len(order) != 4 || order[0] != c || order[3] != d {
		t.Fatalf("TopologicalOrder changed the graph or misordered: %v", order)
	}
	if err := g.SortTopologically(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range g.Nodes() {
		got = append(got, n.OpType)
	}
	if want := "Abs Relu Neg Add"; strings.Join(got, " ") != want {
		t.Fatalf("order %v, want %s", got, want)
	}
	if err := g.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestSortTopologicallyFindsCycle(t *testing.T) {
	g := NewGraph("g")
	x := g.AddInput("x", nil)
	a := g.NewNode("", "Add", []*Value{x, nil}, []string{"a"})
	b := g.NewNode("", "Neg", []*Value{a.Output(0)}, []string{"b"})
	a.SetInput(1, b.Output(0))
	g.Append(a)
	g.Append(b)
	err := g.SortTopologically()
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("SortTopologically() = %v, want a cycle error", err)
	}
}

func TestSubgraphCapturesOrderOuterProducers(t *testing.T) {
	g := NewGraph("g")
	cond := g.AddInput("cond", TensorTypeOf(Bool))
	x := g.AddInput("x", TensorTypeOf(Float, 2))
	ifNode := g.NewNode("", "If", []*Value{cond}, []string{"y"})
	neg := g.NewNode("", "Neg", []*Value{x}, []string{"nx"})
	then := g.NewSubgraph("then")
	ifNode.AttachSubgraph(then)
	id := then.NewNode("", "Identity", []*Value{neg.Output(0)}, []string{"t"})
	then.Append(id)
	then.Outputs = []*Value{id.Output(0)}
	ifNode.Attrs = []*Attr{GraphAttr("then_branch", then)}
	g.Append(ifNode)
	g.Append(neg)
	g.Outputs = []*Value{ifNode.Output(0)}
	if err := g.Verify(); err == nil {
		t.Fatal("Verify accepted a subgraph reading a value produced after its owner")
	}
	if err := g.SortTopologically(); err != nil {
		t.Fatal(err)
	}
	if g.Nodes()[0] != neg {
		t.Fatalf("Neg should come first after sorting, got %s", g.Nodes()[0].Describe())
	}
	if err := g.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestCloneIsDeepAndKeepsIDs(t *testing.T) {
	m := smallModel()
	c := m.Clone()
	if err := c.Verify(); err != nil {
		t.Fatal(err)
	}
	if Format(c) != Format(m) {
		t.Fatalf("clone formats differently:\n%s\nvs\n%s", Format(c), Format(m))
	}
	cn, mn := c.Graph.Nodes()[0], m.Graph.Nodes()[0]
	if cn == mn || cn.ID() != mn.ID() || cn.Output(0).ID() != mn.Output(0).ID() {
		t.Fatal("clone shares nodes or changed IDs")
	}
	cn.Name = "changed"
	cn.Attr("kernel_shape").Ints[0] = 9
	if mn.Name == "changed" || mn.Attr("kernel_shape").Ints[0] == 9 {
		t.Fatal("editing the clone changed the original")
	}
	// New values in the clone do not collide with the original's IDs.
	v := c.Graph.AddInput("extra", nil)
	if v.ID() < m.Graph.MaxValueID() {
		t.Fatalf("new value ID %d reuses an ID below %d", v.ID(), m.Graph.MaxValueID())
	}
}

func TestFormatGolden(t *testing.T) {
	got := Format(smallModel())
	path := filepath.Join("testdata", "small.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ir -run TestFormatGolden -update)", err)
	}
	if got != string(want) {
		t.Fatalf("Format changed:\n--- got\n%s\n--- want\n%s", got, want)
	}
}

func TestDataTypeByteSize(t *testing.T) {
	tests := []struct {
		dt   DataType
		n    int64
		want int64
		err  bool
	}{
		{Float, 3, 12, false}, {Int4, 3, 2, false}, {Uint2, 5, 2, false}, {Bool, 2, 2, false},
		{String, 1, 0, true}, {Double, 1 << 61, 0, true}, {Float, -1, 0, true},
	}
	for _, tc := range tests {
		got, err := tc.dt.ByteSize(tc.n)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s.ByteSize(%d) = %d, %v; want %d, err=%v", tc.dt, tc.n, got, err, tc.want, tc.err)
		}
	}
	if _, err := NumElements([]int64{1 << 32, 1 << 32}); err == nil {
		t.Error("NumElements did not report an overflow")
	}
}

// A graph listed as a subgraph of its own node must be reported, not walked forever.
func TestVerifyGraphNestedInItself(t *testing.T) {
	g := NewGraph("g")
	x := g.AddInput("x", TensorTypeOf(Float, 2))
	n := g.NewNode("", "If", []*Value{x}, []string{"y"})
	n.Attrs = []*Attr{GraphAttr("then_branch", g)}
	g.Append(n)
	g.Outputs = []*Value{n.Output(0)}
	err := g.Verify()
	if err == nil || !strings.Contains(err.Error(), "graph is nested inside itself") {
		t.Fatalf("Verify() = %v, want a nesting error", err)
	}
	if reads := SubgraphReads(g); len(reads) != 0 {
		t.Fatalf("SubgraphReads = %v, want none", reads)
	}
}

// TestSubgraphReadsAttributesToDefiningLevel: a value read three levels down counts as a
// read by the node holding the reader in the value's own graph, and nowhere else.
func TestSubgraphReadsAttributesToDefiningLevel(t *testing.T) {
	g := NewGraph("g")
	x := g.AddInput("x", TensorTypeOf(Float, 2))
	outer := g.NewNode("", "If", []*Value{x}, []string{"y"})
	g.Append(outer)
	l1 := g.NewSubgraph("l1")
	outer.AttachSubgraph(l1)
	v1 := l1.NewNode("", "Neg", []*Value{x}, []string{"v1"})
	l1.Append(v1)
	mid := l1.NewNode("", "If", []*Value{x}, []string{"m"})
	l1.Append(mid)
	l2 := l1.NewSubgraph("l2")
	mid.AttachSubgraph(l2)
	inner := l2.NewNode("", "Add", []*Value{x, v1.Output(0)}, []string{"s"})
	l2.Append(inner)
	l2.Outputs = []*Value{inner.Output(0)}
	mid.Attrs = []*Attr{GraphAttr("then_branch", l2)}
	l1.Outputs = []*Value{mid.Output(0)}
	outer.Attrs = []*Attr{GraphAttr("then_branch", l1)}
	g.Outputs = []*Value{outer.Output(0)}
	if err := g.Verify(); err != nil {
		t.Fatal(err)
	}
	reads := SubgraphReads(g)
	if got := reads[outer]; len(got) != 1 || got[0] != x {
		t.Errorf("outer If reads %v, want [x]", got)
	}
	if got := reads[mid]; len(got) != 1 || got[0] != v1.Output(0) {
		t.Errorf("inner If reads %v, want [v1]", got)
	}
}
