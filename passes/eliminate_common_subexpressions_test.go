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
				return b.input("X", ir.Float, 2).node("Relu", "X", "A").node("Neg", "A", "B").
					node("Relu", "X", "C").node("Neg", "C", "D").node("Add", "B,D", "Y").output("Y").model()
			},
			wantOps: "Relu,Neg,Add", wantOut: "Y",
		},
		{
			name: "different attributes do not merge",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).node("LeakyRelu", "X", "A", ir.FloatAttr("alpha", 0.1)).
					node("LeakyRelu", "X", "B", ir.FloatAttr("alpha", 0.2)).node("Add", "A,B", "Y").output("Y").model()
			},
			wantOps: "LeakyRelu,LeakyRelu,Add", wantOut: "Y",
		},
		{
			name: "random ops do not merge",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).node("RandomUniformLike", "X", "A").node("RandomUniformLike", "X", "B").
					node("Add", "A,B", "Y").output("Y").model()
			},
			wantOps: "RandomUniformLike,RandomUniformLike,Add", wantOut: "Y",
		},
		{
			name: "duplicate producing a graph output: the first takes its name",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).node("Relu", "X", "A").node("Neg", "A", "Y").node("Relu", "X", "Z").output("Y", "Z").model()
			},
			wantOps: "Relu,Neg", wantOut: "Y,Z",
		},
		{
			name: "two graph outputs stay two values",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).node("Relu", "X", "Y").node("Relu", "X", "Z").output("Y", "Z").model()
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
