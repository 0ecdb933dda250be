package irdiff

import (
	"fmt"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

// chainModel is a chain of n unnamed elementwise nodes whose first node reads a constant
// named and filled after seed: with different seeds nothing can be paired by name, data or
// structure, so the order pass pairs the whole chain.
func chainModel(n int, seed string) *ir.Model {
	g := ir.NewGraph("chain")
	x := g.AddInput("X", ir.TensorTypeOf(ir.Float, 8))
	fill := make([]float32, 8)
	for i := range fill {
		fill[i] = float32(seed[0])
	}
	k := g.AddInitializer(ir.FromFloat32("k_"+seed, []int64{8}, fill))
	add := g.NewNode("", "Add", []*ir.Value{x, k}, []string{"v_" + seed + "_0"})
	g.Append(add)
	last := add.Output(0)
	ops := []string{"Relu", "Sigmoid", "Tanh", "Neg"}
	for i := 1; i < n; i++ {
		node := g.NewNode("", ops[i%len(ops)], []*ir.Value{last}, []string{fmt.Sprintf("v_%s_%d", seed, i)})
		g.Append(node)
		last = node.Output(0)
	}
	g.Outputs = []*ir.Value{last}
	return &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 13}}, Graph: g}
}

// BenchmarkCompareChain measures the order pass: 1000 nodes use the subsequence table,
// 5000 the greedy fallback.
func BenchmarkCompareChain(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		a, c := chainModel(n, "a"), chainModel(n, "b")
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Compare(a, c, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLargeChainPairsEveryNode checks that renaming every value of a long chain still
// pairs all its nodes (the order pass past the subsequence table's size limit).
func TestLargeChainPairsEveryNode(t *testing.T) {
	d, err := Compare(chainModel(3000, "a"), chainModel(3000, "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Every node is renamed (its output), the constant is renamed and rewritten, and the
	// graph output is renamed: nothing is added or removed.
	if want := (Summary{Changed: 3000 + 2}); d.Summary != want {
		t.Errorf("summary %+v, want %+v", d.Summary, want)
	}
	for _, nd := range d.Graph.Nodes {
		if nd.Status == Added || nd.Status == Removed {
			t.Fatalf("node %s %s not paired", nd.Name, nd.Status)
		}
	}
}
