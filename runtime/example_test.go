package runtime_test

import (
	"context"
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// A model y = Relu(x + b) built by hand, compiled once and run.
func ExampleSession_Run() {
	g := ir.NewGraph("example")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2, 2))
	b := g.AddInitializer(ir.FromFloat32("b", []int64{2}, []float32{0.5, -3}))
	add := g.NewNode("", "Add", []*ir.Value{x, b}, []string{"sum"})
	g.Append(add)
	relu := g.NewNode("", "Relu", []*ir.Value{add.Output(0)}, []string{"y"})
	g.Append(relu)
	g.Outputs = []*ir.Value{relu.Output(0)}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: 17}}, Graph: g}

	sess, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := sess.Run(context.Background(), map[string]*runtime.Tensor{
		"x": kernel.FromFloat32([]int64{2, 2}, []float32{1, 2, 3, 4}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out["y"].Shape, out["y"].Data)
	// Output: [2 2] [1.5 0 3.5 1]
}
