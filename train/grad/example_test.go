package grad_test

import (
	"context"
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/train/grad"
)

// The gradient of L = Σ y for y = x·W: dL/dW[i][j] = Σ_rows x[row][i].
func Example() {
	g := ir.NewGraph("linear")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2, 3))
	w := g.AddInitializer(ir.FromFloat32("W", []int64{3, 2}, []float32{1, 2, 3, 4, 5, 6}))
	mm := g.NewNode("", "MatMul", []*ir.Value{x, w}, []string{"y"})
	g.Append(mm)
	g.Outputs = []*ir.Value{mm.Output(0)}
	model := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 17}}, Graph: g}

	prog, err := grad.Build(model, grad.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	in := kernel.FromFloat32([]int64{2, 3}, []float32{1, 2, 3, 10, 20, 30})
	tape, err := prog.Forward(context.Background(), map[string]*kernel.Tensor{"x": in}, grad.Training, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("y:", tape.Value("y").Float32s())
	ones := []float32{1, 1, 1, 1}
	if err := tape.Backward(context.Background(), map[string][]float32{"y": ones}); err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range prog.Params() {
		fmt.Println("d/d"+p.Name+":", p.Grad)
	}
	// Output:
	// y: [22 28 220 280]
	// d/dW: [11 11 22 22 33 33]
}
