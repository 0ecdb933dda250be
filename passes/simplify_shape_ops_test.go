package passes

import (
	"reflect"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestSimplifyShapeOps(t *testing.T) {
	tests := []struct {
		name    string
		build   func(b *builder) *ir.Model
		wantOps string
		// wantShape is the constant shape input of the remaining Reshape, when checked.
		wantShape []int64
	}{
		{
			name: "static Shape->Gather->Unsqueeze->Concat->Reshape becomes a constant shape",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2, 3, 4).ints("i0", nil, 0).ints("ax", []int64{1}, 0).ints("m1", []int64{1}, -1).
					node("Shape", "X", "S").node("Gather", "S,i0", "G").node("Unsqueeze", "G,ax", "U").
					node("Concat", "U,m1", "C", ir.IntAttr("axis", 0)).node("Reshape", "X,C", "Y").output("Y").model()
			},
			wantOps: "Reshape", wantShape: []int64{2, -1},
		},
		{
			name: "symbolic batch: the chain stays",
			build: func(b *builder) *ir.Model {
				return b.symInput("X", ir.Float, "N", "3", "4").ints("i0", nil, 0).ints("ax", []int64{1}, 0).ints("m1", []int64{1}, -1).
					node("Shape", "X", "S").node("Gather", "S,i0", "G").node("Unsqueeze", "G,ax", "U").
					node("Concat", "U,m1", "C", ir.IntAttr("axis", 0)).node("Reshape", "X,C", "Y").output("Y").model()
			},
			wantOps: "Shape,Gather,Unsqueeze,Concat,Reshape",
		},
		{
			name: "symbolic batch, static feature dims: the static part folds",
			build: func(b *builder) *ir.Model {
				return b.symInput("X", ir.Float, "N", "3", "4").ints("i1", nil, 1).ints("i2", nil, 2).
					node("Shape", "X", "S").node("Gather", "S,i1", "G1").node("Gather", "S,i2", "G2").
					node("Mul", "G1,G2", "P").output("P").model()
			},
			wantOps: "",
		},
		{
			name: "Slice of a partly symbolic shape keeps what is symbolic",
			build: func(b *builder) *ir.Model {
				return b.symInput("X", ir.Float, "N", "3", "4").ints("s", []int64{1}, 0).ints("e", []int64{1}, 2).
					node("Shape", "X", "S").node("Slice", "S,s,e", "T").output("T").model()
			},
			wantOps: "Shape,Slice",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder(t, 13))
			runPasses(t, m, "simplify_shape_ops,eliminate_dead")
			if got := ops(m); got != tc.wantOps {
				t.Errorf("ops = %q, want %q\n%s", got, tc.wantOps, ir.Format(m))
			}
			if tc.wantShape != nil {
				xs, _ := constInts(m.Graph.Nodes()[0].Input(1))
				if !reflect.DeepEqual(xs, tc.wantShape) {
					t.Errorf("shape = %v, want %v", xs, tc.wantShape)
				}
			}
		})
	}
}
