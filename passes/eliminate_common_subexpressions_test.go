package passes

import (
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestEliminateCommonSubexpressions(t *testing.T) {
	tests := []struct {
		name    string
		build   func(b *builder) *ir.Model
		wantOps string
		wantOut string
	}{
		{
			name: "duplicated chain merges in one run",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Node("Relu", "X", "A").Node("Neg", "A", "B").
					Node("Relu", "X", "C").Node("Neg", "C", "D").Node("Add", "B,D", "Y").Output("Y").Model()
			},
			wantOps: "Relu,Neg,Add", wantOut: "Y",
		},
		{
			name: "different attributes do not merge",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Node("LeakyRelu", "X", "A", ir.FloatAttr("alpha", 0.1)).
					Node("LeakyRelu", "X", "B", ir.FloatAttr("alpha", 0.2)).Node("Add", "A,B", "Y").Output("Y").Model()
			},
			wantOps: "LeakyRelu,LeakyRelu,Add", wantOut: "Y",
		},
		{
			name: "random ops do not merge",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Node("RandomUniformLike", "X", "A").Node("RandomUniformLike", "X", "B").
					Node("Add", "A,B", "Y").Output("Y").Model()
			},
			wantOps: "RandomUniformLike,RandomUniformLike,Add", wantOut: "Y",
		},
		{
			name: "duplicate producing a graph output: the first takes its name",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Node("Relu", "X", "A").Node("Neg", "A", "Y").Node("Relu", "X", "Z").Output("Y", "Z").Model()
			},
			wantOps: "Relu,Neg", wantOut: "Y,Z",
		},
		{
			name: "two graph outputs stay two values",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Node("Relu", "X", "Y").Node("Relu", "X", "Z").Output("Y", "Z").Model()
			},
			wantOps: "Relu,Relu", wantOut: "Y,Z",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder(t, 13))
			runPasses(t, m, "eliminate_common_subexpressions")
			if got := ops(m); got != tc.wantOps {
				t.Errorf("ops = %q, want %q\n%s", got, tc.wantOps, ir.Format(m))
			}
			if got := outNames(m); got != tc.wantOut {
				t.Errorf("outputs = %q, want %q", got, tc.wantOut)
			}
		})
	}
}
