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
				return b.Input("X", ir.Float, 2, 3, 4).Ints("i0", nil, 0).Ints("ax", []int64{1}, 0).Ints("m1", []int64{1}, -1).
					Node("Shape", "X", "S").Node("Gather", "S,i0", "G").Node("Unsqueeze", "G,ax", "U").
					Node("Concat", "U,m1", "C", ir.IntAttr("axis", 0)).Node("Reshape", "X,C", "Y").Output("Y").Model()
			},
			wantOps: "Reshape", wantShape: []int64{2, -1},
		},
		{
			name: "symbolic batch: the chain stays",
			build: func(b *builder) *ir.Model {
				return b.InputOf("X", "float[N,3,4]").Ints("i0", nil, 0).Ints("ax", []int64{1}, 0).Ints("m1", []int64{1}, -1).
					Node("Shape", "X", "S").Node("Gather", "S,i0", "G").Node("Unsqueeze", "G,ax", "U").
					Node("Concat", "U,m1", "C", ir.IntAttr("axis", 0)).Node("Reshape", "X,C", "Y").Output("Y").Model()
			},
			wantOps: "Shape,Gather,Unsqueeze,Concat,Reshape",
		},
		{
			name: "symbolic batch, static feature dims: the static part folds",
			build: func(b *builder) *ir.Model {
				return b.InputOf("X", "float[N,3,4]").Ints("i1", nil, 1).Ints("i2", nil, 2).
					Node("Shape", "X", "S").Node("Gather", "S,i1", "G1").Node("Gather", "S,i2", "G2").
					Node("Mul", "G1,G2", "P").Output("P").Model()
			},
			wantOps: "",
		},
		{
			name: "Slice of a partly symbolic shape keeps what is symbolic",
			build: func(b *builder) *ir.Model {
				return b.InputOf("X", "float[N,3,4]").Ints("s", []int64{1}, 0).Ints("e", []int64{1}, 2).
					Node("Shape", "X", "S").Node("Slice", "S,s,e", "T").Output("T").Model()
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
