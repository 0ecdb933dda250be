package ir_test

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// Build y = Relu(MatMul(x, W) + b) with the ir API, verify it and print its text form.
// Verify reports every broken invariant (undefined inputs, nodes out of order, wrong
// owner links); SortTopologically repairs an order built out of sequence.
func ExampleGraph() {
	g := ir.NewGraph("linear")
	x := g.AddInput("x", ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(2)))
	w := g.AddInitializer(ir.FromFloat32("W", []int64{2, 3}, []float32{1, 2, 3, 4, 5, 6}))
	b := g.AddInitializer(ir.FromFloat32("b", []int64{3}, []float32{-1, 0, 1}))
	mm := g.NewNode("", "MatMul", []*ir.Value{x, w}, []string{"xw"})
	add := g.NewNode("", "Add", []*ir.Value{mm.Output(0), b}, []string{"z"})
	relu := g.NewNode("", "Relu", []*ir.Value{add.Output(0)}, []string{"y"})
	// Appended out of order on purpose.
	g.Append(relu)
	g.Append(mm)
	g.Append(add)
	g.Outputs = []*ir.Value{relu.Output(0)}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: 17}}, Graph: g}

	fmt.Println("valid before sorting:", m.Verify() == nil)
	if err := g.SortTopologically(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("valid after sorting:", m.Verify() == nil)
	fmt.Print(ir.Format(m))
	// Output:
	// valid before sorting: false
	// valid after sorting: true
	// <ir_version: 8, opset_import: ["": 17]>
	// graph "linear" (
	//   %x: float[N,2]
	// ) initializers (
	//   %W: float[2,3] = {1, 2, 3, 4, 5, 6}
	//   %b: float[3] = {-1, 0, 1}
	// ) => (
	//   %y: ?
	// ) {
	//   %xw = MatMul(%x, %W)
	//   %z = Add(%xw, %b)
	//   %y = Relu(%z)
	// }
}
