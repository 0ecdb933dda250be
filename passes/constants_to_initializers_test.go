package passes

import (
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestConstantsToInitializers(t *testing.T) {
	weights := make([]float32, 32)
	for i := range weights {
		weights[i] = float32(i)
	}
	constant := func(name string, dims []int64, data []float32) *ir.Attr {
		return ir.TensorAttr("value", ir.FromFloat32(name, dims, data))
	}
	tests := []struct {
		name     string
		pipeline string
		build    func(b *builder) *ir.Model
		wantOps  string
		wantInit string
		wantOut  string
	}{
		{
			name:     "a weight in a Constant node becomes an initializer of the same name",
			pipeline: "constants_to_initializers",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 4, 8).Node("Constant", "", "W", constant("", []int64{8, 4}, weights)).
					Node("MatMul", "X,W", "Y").Output("Y").Model()
			},
			wantOps: "MatMul", wantInit: "W", wantOut: "Y",
		},
		{
			name:     "a small Constant (a shape) stays a node",
			pipeline: "constants_to_initializers",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 4, 8).Node("Constant", "", "S", ir.TensorAttr("value", ir.FromInt64("", []int64{2}, []int64{8, 4}))).
					Node("Reshape", "X,S", "Y").Output("Y").Model()
			},
			wantOps: "Constant,Reshape", wantInit: "", wantOut: "Y",
		},
		{
			name:     "min_elements=0 moves every Constant",
			pipeline: "constants_to_initializers:min_elements=0",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 4, 8).Node("Constant", "", "S", ir.TensorAttr("value", ir.FromInt64("", []int64{2}, []int64{8, 4}))).
					Node("Reshape", "X,S", "Y").Output("Y").Model()
			},
			wantOps: "Reshape", wantInit: "S", wantOut: "Y",
		},
		{
			name:     "a Constant that is a graph output keeps the output's name",
			pipeline: "constants_to_initializers",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 4).Node("Constant", "", "C", constant("", []int64{32}, weights)).
					Node("Abs", "X", "Y").Output("Y", "C").Model()
			},
			wantOps: "Abs", wantInit: "C", wantOut: "Y,C",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder(t, 13))
			runPasses(t, m, tc.pipeline)
			if got := ops(m); got != tc.wantOps {
				t.Errorf("ops %q, want %q", got, tc.wantOps)
			}
			if got := initNames(m); got != tc.wantInit {
				t.Errorf("initializers %q, want %q", got, tc.wantInit)
			}
			if got := outNames(m); got != tc.wantOut {
				t.Errorf("outputs %q, want %q", got, tc.wantOut)
			}
			if tc.wantInit == "W" {
				if got := floatsOf(t, m.Graph.Lookup("W")); got[31] != 31 {
					t.Errorf("W holds %v", got)
				}
			}
		})
	}
}
