package passes

import (
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestEliminateDead(t *testing.T) {
	tests := []struct {
		name      string
		build     func(b *builder) *ir.Model
		wantOps   string
		wantInits string
		wantIns   int
	}{
		{
			name: "dead chain goes in one run",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).node("Relu", "X", "A").node("Neg", "A", "B").
					node("Abs", "X", "Y").output("Y").model()
			},
			wantOps: "Abs", wantIns: 1,
		},
		{
			name: "unused initializer removed, used one kept",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).floats("W", []int64{2}, 1, 2).floats("U", []int64{1}, 3).
					node("Add", "X,W", "Y").output("Y").model()
			},
			wantOps: "Add", wantInits: "W", wantIns: 1,
		},
		{
			name: "unused real input is kept",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).input("Unused", ir.Float, 2).node("Abs", "X", "Y").output("Y").model()
			},
			wantOps: "Abs", wantIns: 2,
		},
		{
			name: "unused initializer listed as input (IR 3) is removed with its input",
			build: func(b *builder) *ir.Model {
				b.input("X", ir.Float, 2).floats("W", []int64{2}, 1, 2)
				b.m.IRVersion = 3
				b.g.Inputs = append(b.g.Inputs, b.vals["W"])
				return b.node("Abs", "X", "Y").output("Y").model()
			},
			wantOps: "Abs", wantIns: 1,
		},
		{
			name: "graph output producer kept, custom-domain node kept",
			build: func(b *builder) *ir.Model {
				b.input("X", ir.Float, 2).node("Abs", "X", "Y").node("Custom", "X", "C").output("Y")
				b.vals["C"].Producer().Domain = "com.example"
				return b.model()
			},
			wantOps: "Abs,Custom", wantIns: 1,
		},
		{
			name: "dead If whose branches read outer values",
			build: func(b *builder) *ir.Model {
				b.input("X", ir.Float, 2).input("Cond", ir.Bool).node("Abs", "X", "A")
				then := b.g.NewSubgraph("then")
				tn := then.NewNode("", "Neg", []*ir.Value{b.vals["A"]}, []string{"T"})
				then.Append(tn)
				then.Outputs = []*ir.Value{tn.Output(0)}
				els := b.g.NewSubgraph("else")
				en := els.NewNode("", "Relu", []*ir.Value{b.vals["A"]}, []string{"E"})
				els.Append(en)
				els.Outputs = []*ir.Value{en.Output(0)}
				ifn := b.g.NewNode("", "If", []*ir.Value{b.vals["Cond"]}, []string{"Z"}, ir.GraphAttr("then_branch", then), ir.GraphAttr("else_branch", els))
				ifn.AttachSubgraph(then)
				ifn.AttachSubgraph(els)
				b.g.Append(ifn)
				return b.node("Abs", "X", "Y").output("Y").model()
			},
			wantOps: "Abs", wantIns: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder(t, 13))
			runPasses(t, m, "eliminate_dead")
			if got := ops(m); got != tc.wantOps {
				t.Errorf("ops = %q, want %q", got, tc.wantOps)
			}
			if got := initNames(m); got != tc.wantInits {
				t.Errorf("initializers = %q, want %q", got, tc.wantInits)
			}
			if got := len(m.Graph.Inputs); got != tc.wantIns {
				t.Errorf("%d inputs, want %d", got, tc.wantIns)
			}
		})
	}
}
