package fused

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"

	_ "github.com/whittle-ml/whittle/runtime/ops/elementwise" // the reference Add, Sub, Mul, Div
)

// TestBinaryMatchesReference runs the fused Binary on every broadcast shape it handles
// apart (equal shapes, a scalar, a scalar per channels-first plane, a row per
// channels-last pixel, short rows, a row repeated between outer axes) and one it hands to
// the reference, either operand first, on one and two threads, and compares it with the
// reference kernel of each operator.
func TestBinaryMatchesReference(t *testing.T) {
	shapes := [][2][]int64{
		{{2, 3, 5, 7}, {2, 3, 5, 7}},
		{{3, 40}, {1}},
		{{1, 6, 20, 33}, {1, 6, 1, 1}},     // inner 1
		{{1, 12, 13, 32}, {1, 1, 1, 32}},   // SE scale, channels-last
		{{1, 112, 112, 40}, {1, 1, 1, 40}}, // enough work for two threads
		{{2, 9, 9, 17}, {2, 1, 1, 17}},     // outer 2
		{{4, 5, 3}, {3}},                   // short rows
		{{3, 1000, 24}, {3, 1, 24}},        // outer 3, chunked rows
		{{2, 3, 4}, {3, 1}},                // not a repeat: the reference
	}
	r := rand.New(rand.NewSource(5))
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		for _, sh := range shapes {
			for _, swapped := range []bool{false, true} {
				aShape, bShape := sh[0], sh[1]
				if swapped {
					aShape, bShape = bShape, aShape
				}
				name := fmt.Sprintf("%s_%v_%v", op, aShape, bShape)
				a, b := randTensor(r, aShape), randTensor(r, bShape)
				g := ir.NewGraph("g")
				x, y := g.AddInput("a", nil), g.AddInput("b", nil)
				n := g.NewNode(prepare.Domain, prepare.OpBinary, []*ir.Value{x, y}, []string{"c"}, ir.StringAttr("op", op))
				k, err := newBinary(&kernel.NodeInfo{Node: n, Opset: 1})
				if err != nil {
					t.Fatal(err)
				}
				refNode := g.NewNode("", op, []*ir.Value{x, y}, []string{"d"})
				def, err := kernel.Lookup("", op, 14, ir.Float)
				if err != nil {
					t.Fatal(err)
				}
				ref, err := def.New(&kernel.NodeInfo{Node: refNode, Opset: 14})
				if err != nil {
					t.Fatal(err)
				}
				want, err := ref.Run(&kernel.Context{}, []*kernel.Tensor{a, b})
				if err != nil {
					t.Fatal(err)
				}
				for _, threads := range []int{1, 2} {
					got, err := k.Run(&kernel.Context{Threads: threads}, []*kernel.Tensor{a, b})
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if !slices.Equal(got[0].Shape, want[0].Shape) {
						t.Fatalf("%s: shape %v, want %v", name, got[0].Shape, want[0].Shape)
					}
					for i, w := range want[0].Float32s() {
						if v := got[0].Float32s()[i]; math.Abs(float64(v-w)) > 1e-6*math.Abs(float64(w)) {
							t.Fatalf("%s, %d threads: [%d] = %v, want %v", name, threads, i, v, w)
						}
					}
				}
			}
		}
	}
}

func randTensor(r *rand.Rand, shape []int64) *kernel.Tensor {
	x := kernel.New(ir.Float, shape...)
	for i := range x.Float32s() {
		x.Float32s()[i] = r.Float32()*4 - 2
	}
	return x
}
