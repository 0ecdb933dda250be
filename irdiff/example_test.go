package irdiff_test

import (
	"fmt"
	"os"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/irdiff"
)

// reluModel is X -> Relu -> [Identity] -> Y.
func reluModel(withIdentity bool) *ir.Model {
	g := ir.NewGraph("g")
	x := g.AddInput("X", ir.TensorTypeOf(ir.Float, 2, 3))
	out := "Y"
	if withIdentity {
		out = "r"
	}
	relu := g.NewNode("", "Relu", []*ir.Value{x}, []string{out})
	relu.Name = "relu"
	g.Append(relu)
	last := relu.Output(0)
	if withIdentity {
		id := g.NewNode("", "Identity", []*ir.Value{last}, []string{"Y"})
		id.Name = "id"
		g.Append(id)
		last = id.Output(0)
	}
	g.Outputs = []*ir.Value{last}
	return &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 13}}, Graph: g}
}

func Example() {
	d, err := irdiff.Compare(reluModel(true), reluModel(false), irdiff.Options{LabelA: "before.onnx", LabelB: "after.onnx"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("equal:", d.Equal)
	for _, n := range d.Graph.Nodes {
		fmt.Println(n.Status, n.Name, n.Op)
	}
	// Output:
	// equal: false
	// changed relu Relu
	// removed id Identity
}

func ExampleDiff_WriteText() {
	d, _ := irdiff.Compare(reluModel(true), reluModel(false), irdiff.Options{LabelA: "before.onnx", LabelB: "after.onnx"})
	_ = d.WriteText(os.Stdout, irdiff.TextOptions{Color: false})
	// Output:
	// --- before.onnx  ir 8, ai.onnx 13
	// +++ after.onnx  ir 8, ai.onnx 13
	// 1 removed, 2 changed
	//
	// outputs:
	//   ~ Y  ?, now from Relu relu:0 (was Identity id:0)
	//
	// nodes:
	//   ~ relu  Relu
	//       output 0: r -> Y
	//   - id    Identity
	//
	// totals:
	//   nodes   2 -> 1 (-1, -50.0%)
	//   params  0
	//   bytes   0 B
	//   MACs    0
	//   ops     Identity -1
}
