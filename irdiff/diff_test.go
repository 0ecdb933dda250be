package irdiff

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func compareSpecs(t *testing.T, a, b netSpec, opts Options) *Diff {
	t.Helper()
	if opts.LabelA == "" {
		opts.LabelA, opts.LabelB = "a.onnx", "b.onnx"
	}
	d, err := Compare(buildNet(t, a), buildNet(t, b), opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./irdiff -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test ./irdiff -update after checking it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			d := compareSpecs(t, c.a, c.b, Options{InferShapes: true})
			var text, js bytes.Buffer
			if err := d.WriteText(&text, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := d.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, c.name+".txt.golden", text.Bytes())
			checkGolden(t, c.name+".json.golden", js.Bytes())
			if strings.Contains(text.String(), "\x1b[") {
				t.Error("text without Color holds ANSI escapes")
			}
		})
	}
}

func TestDOTGolden(t *testing.T) {
	c := goldenCases(t)[2] // bn_folded
	d := compareSpecs(t, c.a, c.b, Options{InferShapes: true})
	var dot bytes.Buffer
	if err := d.WriteDOT(&dot); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, c.name+".dot.golden", dot.Bytes())
}

// findNode returns the diff entry of the node called name (B's name, or A's if removed).
func findNode(t *testing.T, gd *GraphDiff, name string) NodeDiff {
	t.Helper()
	for _, nd := range gd.Nodes {
		if nd.Name == name {
			return nd
		}
	}
	t.Fatalf("no diff entry for node %q in %+v", name, gd.Nodes)
	return NodeDiff{}
}

func findInit(t *testing.T, gd *GraphDiff, name string) InitializerDiff {
	t.Helper()
	for _, id := range gd.Initializers {
		if id.Name == name {
			return id
		}
	}
	t.Fatalf("no diff entry for initializer %q in %+v", name, gd.Initializers)
	return InitializerDiff{}
}

// TestCases checks the facts behind each golden file, so that a wrong golden file cannot
// be blessed unnoticed.
func TestCases(t *testing.T) {
	cases := map[string]goldenCase{}
	for _, c := range goldenCases(t) {
		cases[c.name] = c
	}
	diff := func(name string) *Diff {
		c := cases[name]
		return compareSpecs(t, c.a, c.b, Options{})
	}

	t.Run("identical", func(t *testing.T) {
		d := diff("identical")
		if !d.Equal || d.Summary != (Summary{}) || len(d.Graph.Nodes) != 0 || len(d.Graph.Initializers) != 0 {
			t.Errorf("identical models differ: %+v", d)
		}
	})

	t.Run("identity_removed", func(t *testing.T) {
		d := diff("identity_removed")
		if d.Equal || d.Summary.Removed != 1 || d.Summary.Unexplained != 0 {
			t.Errorf("summary = %+v", d.Summary)
		}
		id := findNode(t, d.Graph, "id")
		if id.Status != Removed || id.Op != "Identity" || !equalStrings(id.By, []string{"eliminate_identity"}) {
			t.Errorf("identity: %+v", id)
		}
		relu := findNode(t, d.Graph, "relu")
		if relu.Status != Changed || len(relu.Outputs) != 1 || relu.Outputs[0] != (EdgeChange{Index: 0, Old: "r", New: "Y"}) {
			t.Errorf("relu: %+v", relu)
		}
		if len(d.Graph.Outputs) != 1 || d.Graph.Outputs[0].NewSource != "Relu relu:0" || d.Graph.Outputs[0].OldSource != "Identity id:0" {
			t.Errorf("outputs: %+v", d.Graph.Outputs)
		}
		if !equalStrings(d.Pipelines, []string{"eliminate_identity (whittle v0.1.0)"}) || d.Totals.Nodes != (Count{4, 3, -1}) {
			t.Errorf("pipelines %q, nodes %+v", d.Pipelines, d.Totals.Nodes)
		}
	})

	t.Run("bn_folded", func(t *testing.T) {
		d := diff("bn_folded")
		w := findInit(t, d.Graph, "W")
		if w.Status != Changed || !w.DataChanged || w.MaxAbsDelta == nil || w.RelL2 == nil || *w.MaxAbsDelta < 1.9 || *w.MaxAbsDelta > 2.1 {
			t.Errorf("W: %+v", w)
		}
		if b := findInit(t, d.Graph, "conv.bias"); b.Status != Added || b.NewType != "float[2]" {
			t.Errorf("conv.bias: %+v", b)
		}
		if v := findInit(t, d.Graph, "bn.var"); v.Status != Removed || !v.Unexplained {
			t.Errorf("bn.var must be removed and unexplained: %+v", v)
		}
		if bn := findNode(t, d.Graph, "bn"); bn.Status != Removed || !equalStrings(bn.By, []string{"fuse_bn_into_conv"}) {
			t.Errorf("bn: %+v", bn)
		}
		conv := findNode(t, d.Graph, "conv")
		if conv.Status != Changed || len(conv.Inputs) != 1 || conv.Inputs[0] != (EdgeChange{Index: 2, Old: "", New: "conv.bias"}) {
			t.Errorf("conv: %+v", conv)
		}
		relu := findNode(t, d.Graph, "relu")
		if len(relu.Inputs) != 1 || relu.Inputs[0] != (EdgeChange{Index: 0, Old: "n", New: "c"}) || relu.Unexplained {
			t.Errorf("relu: %+v", relu)
		}
		if d.Summary.Unexplained != 1 || len(d.UnmatchedChanges) != 1 || d.UnmatchedChanges[0].Node != "ghost" {
			t.Errorf("summary %+v, unmatched %+v", d.Summary, d.UnmatchedChanges)
		}
		if d.Totals.Params != (Count{16, 10, -6}) {
			t.Errorf("params %+v", d.Totals.Params)
		}
		want := []string{"fold_constants (whittle v0.1.0)", "fuse_bn_into_conv,eliminate_identity:keep_graph_outputs=true (whittle v0.1.0)"}
		if !equalStrings(d.Pipelines, want) {
			t.Errorf("pipelines %q, want %q", d.Pipelines, want)
		}
	})

	t.Run("attr_changed", func(t *testing.T) {
		d := diff("attr_changed")
		conv := findNode(t, d.Graph, "conv")
		want := []AttrChange{
			{Name: "pads", Status: Changed, Old: "[0, 0, 0, 0]", New: "[1, 1, 1, 1]"},
			{Name: "dilations", Status: Added, New: "[1, 1]"},
		}
		if len(conv.Attributes) != len(want) || conv.Attributes[0] != want[0] || conv.Attributes[1] != want[1] {
			t.Errorf("attributes = %+v, want %+v", conv.Attributes, want)
		}
		if d.HasChangelog || conv.Unexplained {
			t.Error("without a change log nothing is marked unexplained")
		}
	})

	t.Run("pruned", func(t *testing.T) {
		d := diff("pruned")
		w := findInit(t, d.Graph, "W")
		if w.OldSparsity == nil || w.NewSparsity == nil || *w.OldSparsity != 0 || *w.NewSparsity != 0.5 {
			t.Errorf("sparsity: %+v", w)
		}
		if w.MaxAbsDelta == nil || *w.MaxAbsDelta != 2 {
			t.Errorf("max |Δ| = %v, want 2", w.MaxAbsDelta)
		}
		if len(d.Graph.Nodes) != 0 {
			t.Errorf("pruning changed no node, got %+v", d.Graph.Nodes)
		}
	})

	t.Run("input_shape", func(t *testing.T) {
		d := diff("input_shape")
		if len(d.Graph.Inputs) != 1 || d.Graph.Inputs[0].OldType != "float[1,1,4,4]" || d.Graph.Inputs[0].NewType != "float[N,1,4,4]" {
			t.Errorf("inputs: %+v", d.Graph.Inputs)
		}
	})

	t.Run("renamed", func(t *testing.T) {
		d := diff("renamed")
		if d.Summary.Added+d.Summary.Removed != 0 || d.Summary.Changed != 4 {
			t.Errorf("renamed nodes must all be matched: %+v", d.Summary)
		}
		for _, nd := range d.Graph.Nodes {
			if nd.MatchedBy != byStructure || nd.OldName == "" {
				t.Errorf("%s matched by %q (old name %q), want structure", nd.Name, nd.MatchedBy, nd.OldName)
			}
		}
	})
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestColor(t *testing.T) {
	c := goldenCases(t)[2]
	d := compareSpecs(t, c.a, c.b, Options{})
	var out bytes.Buffer
	if err := d.WriteText(&out, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{ansiRed + "- bn", ansiGreen + "+ conv.bias", ansiYellow + "~ conv", ansiMagenta + "(unexplained)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("coloured text lacks %q:\n%s", want, out.String())
		}
	}
}

func TestAllKeepsUnchanged(t *testing.T) {
	c := goldenCases(t)[3] // attr_changed
	d := compareSpecs(t, c.a, c.b, Options{All: true})
	statuses := map[Status]int{}
	for _, nd := range d.Graph.Nodes {
		statuses[nd.Status]++
	}
	if statuses[Unchanged] != 3 || statuses[Changed] != 1 || len(d.Graph.Initializers) != 5 {
		t.Errorf("with All: node statuses %v, %d initializers", statuses, len(d.Graph.Initializers))
	}
	var out bytes.Buffer
	_ = d.WriteText(&out, TextOptions{})
	if !strings.Contains(out.String(), "= relu") {
		t.Errorf("unchanged nodes not listed:\n%s", out.String())
	}
}

// TestUnnamedNodesMatchedByOrder checks the longest-common-subsequence pass: unnamed nodes
// whose inputs differ are paired by op and order, and an inserted node shows as added.
func TestUnnamedNodesMatchedByOrder(t *testing.T) {
	build := func(insert bool, scale float32) *ir.Model {
		g := ir.NewGraph("g")
		x := g.AddInput("X", ir.TensorTypeOf(ir.Float, 4))
		k := g.AddInitializer(ir.FromFloat32("k", []int64{4}, []float32{scale, scale, scale, scale}))
		// The constant input of Mul is a fresh name each time, so structure cannot pair it.
		mul := g.NewNode("", "Mul", []*ir.Value{x, k}, []string{"m"})
		g.Append(mul)
		last := mul.Output(0)
		if insert {
			n := g.NewNode("", "Neg", []*ir.Value{last}, []string{"neg"})
			g.Append(n)
			last = n.Output(0)
		}
		for i, op := range []string{"Relu", "Sigmoid", "Tanh"} {
			n := g.NewNode("", op, []*ir.Value{last}, []string{op + "_out" + string(rune('0'+i))})
			g.Append(n)
			last = n.Output(0)
		}
		g.Outputs = []*ir.Value{last}
		return &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 13}}, Graph: g}
	}
	d, err := Compare(build(false, 1), build(true, 2), Options{All: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Status{}
	for _, nd := range d.Graph.Nodes {
		got[nd.Op] = nd.Status
	}
	want := map[string]Status{"Mul": Unchanged, "Neg": Added, "Relu": Changed, "Sigmoid": Unchanged, "Tanh": Unchanged}
	for op, s := range want {
		if got[op] != s {
			t.Errorf("%s: %s, want %s (all: %+v)", op, got[op], s, d.Graph.Nodes)
		}
	}
	if k := findInit(t, d.Graph, "k"); k.Status != Changed {
		t.Errorf("k: %+v", k)
	}
}

// TestSubgraphRecursed changes a node inside an If branch: the If is matched by name, its
// branches through it, and the change is reported inside.
func TestSubgraphRecursed(t *testing.T) {
	build := func(op string) *ir.Model {
		g := ir.NewGraph("g")
		cond := g.AddInput("cond", ir.TensorTypeOf(ir.Bool))
		x := g.AddInput("X", ir.TensorTypeOf(ir.Float, 2))
		branch := func(name, op string) *ir.Graph {
			sub := g.NewSubgraph(name)
			n := sub.NewNode("", op, []*ir.Value{x}, []string{name + "_y"})
			n.Name = name + "_op"
			sub.Append(n)
			sub.Outputs = []*ir.Value{n.Output(0)}
			return sub
		}
		thenG, elseG := branch("then", op), branch("else", "Neg")
		iff := g.NewNode("", "If", []*ir.Value{cond}, []string{"Y"}, ir.GraphAttr("then_branch", thenG), ir.GraphAttr("else_branch", elseG))
		iff.Name = "if"
		iff.AttachSubgraph(thenG)
		iff.AttachSubgraph(elseG)
		g.Append(iff)
		g.Outputs = []*ir.Value{iff.Output(0)}
		m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 13}}, Graph: g}
		if err := m.Verify(); err != nil {
			t.Fatal(err)
		}
		return m
	}
	d, err := Compare(build("Relu"), build("Abs"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	iff := findNode(t, d.Graph, "if")
	if iff.Status != Changed || len(iff.Subgraphs) != 1 || iff.Subgraphs[0].Attribute != "then_branch" {
		t.Fatalf("if: %+v", iff)
	}
	op := findNode(t, iff.Subgraphs[0], "then_op")
	if op.Op != "Abs" || op.OldOp != "Relu" {
		t.Errorf("then_op: %+v", op)
	}
	if d.Summary.Changed != 1 || d.Equal {
		t.Errorf("summary %+v", d.Summary)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	c := goldenCases(t)[2]
	d := compareSpecs(t, c.a, c.b, Options{})
	var out bytes.Buffer
	if err := d.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var back Diff
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != SchemaVersion || back.Summary != d.Summary || len(back.Graph.Nodes) != len(d.Graph.Nodes) {
		t.Errorf("round trip lost data: %+v", back)
	}
}

func TestCompareRejectsMissingGraph(t *testing.T) {
	if _, err := Compare(&ir.Model{}, &ir.Model{}, Options{}); err == nil {
		t.Error("Compare accepted models without graphs")
	}
}

func TestBadChangelogIsAWarning(t *testing.T) {
	b := baseSpec()
	b.metadata = []ir.StringPair{{Key: ChangelogKey, Value: "{not json"}}
	d := compareSpecs(t, baseSpec(), b, Options{})
	if d.HasChangelog || len(d.Warnings) != 1 {
		t.Errorf("has changelog %v, warnings %v", d.HasChangelog, d.Warnings)
	}
}

func TestLongestCommonSubsequence(t *testing.T) {
	split := func(s string) []string { return strings.Split(s, "") }
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"ABCBDAB", "BDCABA", 4},
		{"", "ABC", 0},
		{"ABC", "ABC", 3},
		{"AXBXC", "ABC", 3},
	} {
		pairs := longestCommonSubsequence(split(c.a), split(c.b))
		if len(pairs) != c.want {
			t.Errorf("LCS(%s, %s) has %d pairs, want %d", c.a, c.b, len(pairs), c.want)
		}
		for k, p := range pairs {
			if c.a[p[0]] != c.b[p[1]] || (k > 0 && (p[0] <= pairs[k-1][0] || p[1] <= pairs[k-1][1])) {
				t.Errorf("LCS(%s, %s): bad pairs %v", c.a, c.b, pairs)
			}
		}
	}
}
