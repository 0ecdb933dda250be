package passes

import (
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestDedupInitializers(t *testing.T) {
	tests := []struct {
		name      string
		build     func(b *builder) *ir.Model
		wantInits string
		wantOps   string
	}{
		{
			name: "identical weights merge, then CSE merges the nodes",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Floats("a", []int64{2}, 1, 2).Floats("b", []int64{2}, 1, 2).
					Node("Add", "X,a", "A").Node("Add", "X,b", "B").Node("Mul", "A,B", "Y").Output("Y").Model()
			},
			wantInits: "a", wantOps: "Add,Mul",
		},
		{
			name: "same bytes, other shape or type: kept apart",
			build: func(b *builder) *ir.Model {
				b.Input("X", ir.Float, 2).Floats("a", []int64{2}, 1, 2).Floats("b", []int64{1, 2}, 1, 2)
				b.Init(ir.NewTensor("c", ir.Int32, []int64{2}, b.Value("a").Const.Raw))
				return b.Node("Add", "X,a", "A").Node("Add", "X,b", "B").Node("Cast", "c", "C", ir.IntAttr("to", 1)).
					Node("Sum", "A,B,C", "Y").Output("Y").Model()
			},
			wantInits: "a,b,c", wantOps: "Add,Add,Cast,Sum",
		},
		{
			name: "an initializer that is a graph output is kept",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Floats("a", []int64{2}, 1, 2).Floats("b", []int64{2}, 1, 2).
					Node("Add", "X,a", "Y").Output("Y", "b").Model()
			},
			wantInits: "a,b", wantOps: "Add",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder(t, 13))
			runPasses(t, m, "dedup_initializers,eliminate_common_subexpressions,eliminate_dead")
			if got := initNames(m); got != tc.wantInits {
				t.Errorf("initializers = %q, want %q", got, tc.wantInits)
			}
			if got := ops(m); got != tc.wantOps {
				t.Errorf("ops = %q, want %q\n%s", got, tc.wantOps, ir.Format(m))
			}
		})
	}
}
