package infer_test

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
)

// A convolution followed by a flatten keeps the symbolic batch size.
func ExampleModel() {
	g := ir.NewGraph("net")
	x := g.AddInput("x", ir.TensorType(ir.Float, ir.Symbolic("batch"), ir.Known(3), ir.Known(8), ir.Known(8)))
	w := g.AddInitializer(ir.FromFloat32("w", []int64{4, 3, 3, 3}, make([]float32, 4*3*3*3)))
	conv := g.NewNode("", "Conv", []*ir.Value{x, w}, []string{"conv"})
	g.Append(conv)
	flat := g.NewNode("", "Flatten", []*ir.Value{conv.Output(0)}, []string{"flat"})
	g.Append(flat)
	g.Outputs = []*ir.Value{flat.Output(0)}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 17}}, Graph: g}

	report, err := infer.Model(m, infer.Options{DataPropagation: true})
	if err != nil {
		panic(err)
	}
	fmt.Println(conv.Output(0).Type, flat.Output(0).Type, len(report.Problems))
	// Output: float[batch,4,6,6] float[batch,144] 0
}
