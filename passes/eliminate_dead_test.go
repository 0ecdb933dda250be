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
				return b.Input("X", ir.Float, 2).Node("Relu", "X", "A").Node("Neg", "A", "B").
					Node("Abs", "X", "Y").Output("Y").Model()
			},
			wantOps: "Abs", wantIns: 1,
		},
		{
			name: "unused initializer removed, used one kept",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Floats("W", []int64{2}, 1, 2).Floats("U", []int64{1}, 3).
					Node("Add", "X,W", "Y").Output("Y").Model()
			},
			wantOps: "Add", wantInits: "W", wantIns: 1,
		},
		{
			name: "unused real input is kept",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Input("Unused", ir.Float, 2).Node("Abs", "X", "Y").Output("Y").Model()
			},
			wantOps: "Abs", wantIns: 2,
		},
		{
			name: "unused initializer listed as input (IR 3) is removed with its input",
			build: func(b *builder) *ir.Model {
				b.Input("X", ir.Float, 2).Floats("W", []int64{2}, 1, 2)
				b.IRVersion(3)
				b.Graph().Inputs = append(b.Graph().Inputs, b.Value("W"))
				return b.Node("Abs", "X", "Y").Output("Y").Model()
			},
			wantOps: "Abs", wantIns: 1,
		},
		{
			name: "graph output producer kept, custom-domain node kept",
			build: func(b *builder) *ir.Model {
				b.Input("X", ir.Float, 2).Node("Abs", "X", "Y").Node("Custom", "X", "C").Output("Y")
				b.Value("C").Producer().Domain = "com.example"
				return b.Model()
			},
			wantOps: "Abs,Custom", wantIns: 1,
		},
		{
			name: "dead If whose branches read outer values",
			build: func(b *builder) *ir.Model {
				b.Input("X", ir.Float, 2).Input("Cond", ir.Bool).Node("Abs", "X", "A")
				then := b.Graph().NewSubgraph("then")
				tn := then.NewNode("", "Neg", []*ir.Value{b.Value("A")}, []string{"T"})
				then.Append(tn)
				then.Outputs = []*ir.Value{tn.Output(0)}
				els := b.Graph().NewSubgraph("else")
				en := els.NewNode("", "Relu", []*ir.Value{b.Value("A")}, []string{"E"})
				els.Append(en)
				els.Outputs = []*ir.Value{en.Output(0)}
				ifn := b.Graph().NewNode("", "If", []*ir.Value{b.Value("Cond")}, []string{"Z"}, ir.GraphAttr("then_branch", then), ir.GraphAttr("else_branch", els))
				ifn.AttachSubgraph(then)
				ifn.AttachSubgraph(els)
				b.Graph().Append(ifn)
				return b.Node("Abs", "X", "Y").Output("Y").Model()
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
