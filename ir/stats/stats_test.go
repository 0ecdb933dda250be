package stats

import (
	"math"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestNodeMACs(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(3), ir.Known(8), ir.Known(8)))
	w := g.AddInitializer(ir.FromFloat32("w", []int64{4, 3, 3, 3}, make([]float32, 108)))
	conv := g.NewNode("", "Conv", []*ir.Value{x, w}, []string{"y"})
	conv.Output(0).Type = ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(4), ir.Known(6), ir.Known(6))
	a := g.AddInput("a", ir.TensorTypeOf(ir.Float, 5, 7))
	b := g.AddInitializer(ir.FromFloat32("b", []int64{7, 2}, make([]float32, 14)))
	mm := g.NewNode("", "MatMul", []*ir.Value{a, b}, []string{"m"})
	mm.Output(0).Type = ir.TensorTypeOf(ir.Float, 5, 2)
	unknown := g.NewNode("", "Conv", []*ir.Value{x, w}, []string{"u"})
	unknown.Output(0).Type = ir.TensorType(ir.Float, ir.UnknownDim, ir.Known(4), ir.Known(6), ir.Known(6))
	relu := g.NewNode("", "Relu", []*ir.Value{x}, []string{"r"})
	tests := []struct {
		name        string
		n           *ir.Node
		macs        int64
		known, isOp bool
	}{
		// 4*6*6 outputs per sample, each summing 3*3*3 products.
		{"conv per sample", conv, 4 * 6 * 6 * 27, true, true},
		{"matmul", mm, 5 * 2 * 7, true, true},
		{"unknown dim", unknown, 0, false, true},
		{"no MACs", relu, 0, false, false},
	}
	for _, tc := range tests {
		macs, known, ok := NodeMACs(tc.n)
		if macs != tc.macs || known != tc.known || ok != tc.isOp {
			t.Errorf("%s: NodeMACs = %d, %v, %v; want %d, %v, %v", tc.name, macs, known, ok, tc.macs, tc.known, tc.isOp)
		}
	}
}

func TestCountZeros(t *testing.T) {
	tests := []struct {
		t    *ir.Tensor
		want int64
	}{
		{ir.FromFloat32("f", []int64{4}, []float32{0, 1, float32(math.Copysign(0, -1)), 2}), 2},
		{ir.FromInt64("i", []int64{3}, []int64{0, 0, 5}), 2},
		{&ir.Tensor{DataType: ir.Int4, Dims: []int64{2}, Raw: []byte{0}}, 0}, // sub-byte types are not counted
	}
	for _, tc := range tests {
		if got := CountZeros(tc.t); got != tc.want {
			t.Errorf("CountZeros(%s) = %d, want %d", tc.t.Name, got, tc.want)
		}
	}
}
