package passes_test

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
)

func ExampleParsePipeline() {
	p, err := passes.ParsePipeline("fold_constants:max_bytes=4096, eliminate_dead")
	fmt.Println(p, err)
	for _, st := range p {
		fmt.Println(st.Pass, st.Params)
	}
	// Output:
	// fold_constants:max_bytes=4096,eliminate_dead <nil>
	// fold_constants map[max_bytes:4096]
	// eliminate_dead map[]
}

// Run applies a pipeline in place until nothing changes, logging every change.
func ExampleRun() {
	// Y = Relu(Identity(X) + (a + a))
	g := ir.NewGraph("g")
	x := g.AddInput("X", ir.TensorTypeOf(ir.Float, 2))
	a := g.AddInitializer(ir.FromFloat32("a", []int64{2}, []float32{1, 2}))
	id := g.NewNode("", "Identity", []*ir.Value{x}, []string{"X1"})
	aa := g.NewNode("", "Add", []*ir.Value{a, a}, []string{"A2"})
	add := g.NewNode("", "Add", []*ir.Value{id.Output(0), aa.Output(0)}, []string{"S"})
	relu := g.NewNode("", "Relu", []*ir.Value{add.Output(0)}, []string{"Y"})
	for _, n := range []*ir.Node{id, aa, add, relu} {
		g.Append(n)
	}
	g.Outputs = []*ir.Value{relu.Output(0)}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 13}}, Graph: g}

	ctx := &passes.Context{Eval: runtime.ConstEvaluator{}, VerifyEach: true}
	rep, err := passes.Run(ctx, m, passes.Default())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range m.Graph.Nodes() {
		fmt.Println(n.OpType, n.Inputs()[0].Name)
	}
	fmt.Println("converged:", rep.Converged)
	for _, c := range ctx.Log.Changes {
		if c.Kind == passes.NodeRemoved {
			fmt.Println(c.Pass, "removed", c.Op, c.Node)
		}
	}
	// Output:
	// Add X
	// Relu S
	// converged: true
	// eliminate_identity removed Identity X1
	// fold_constants removed Add A2
}
