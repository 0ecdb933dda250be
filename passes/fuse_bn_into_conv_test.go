package passes

import (
	"math"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

// bnInputs adds scale, bias, mean and var for 2 channels.
func bnInputs(b *builder) *builder {
	return b.Floats("gamma", []int64{2}, 2, 0.5).Floats("beta", []int64{2}, 1, -1).
		Floats("mean", []int64{2}, 0.5, 2).Floats("var", []int64{2}, 1, 0.25)
}

func TestFuseBNIntoConv(t *testing.T) {
	tests := []struct {
		name    string
		build   func(b *builder) *ir.Model
		wantOps string
		check   func(t *testing.T, m *ir.Model)
	}{
		{
			name: "Conv with bias: weights and bias scaled",
			build: func(b *builder) *ir.Model {
				bnInputs(b.Input("X", ir.Float, 1, 1, 3, 3)).Floats("W", []int64{2, 1, 1, 1}, 3, 5).Floats("B", []int64{2}, 1, 2)
				return b.Node("Conv", "X,W,B", "C").Node("BatchNormalization", "C,gamma,beta,mean,var", "Y", ir.FloatAttr("epsilon", 0)).
					Output("Y").Model()
			},
			wantOps: "Conv",
			check: func(t *testing.T, m *ir.Model) {
				conv := m.Graph.Nodes()[0]
				// s = gamma/sqrt(var) = [2, 1]; W' = W*s; B' = (B-mean)*s + beta.
				near(t, "W", floatsOf(t, conv.Input(1)), []float64{6, 5})
				near(t, "B", floatsOf(t, conv.Input(2)), []float64{2, -1})
				if conv.Output(0).Name != "Y" {
					t.Errorf("fused output is %q, want Y", conv.Output(0).Name)
				}
			},
		},
		{
			name: "Conv without bias gains one",
			build: func(b *builder) *ir.Model {
				bnInputs(b.Input("X", ir.Float, 1, 1, 3, 3)).Floats("W", []int64{2, 1, 1, 1}, 3, 5)
				return b.Node("Conv", "X,W", "C").Node("BatchNormalization", "C,gamma,beta,mean,var", "D", ir.FloatAttr("epsilon", 0)).
					Node("Relu", "D", "Y").Output("Y").Model()
			},
			wantOps: "Conv,Relu",
			check: func(t *testing.T, m *ir.Model) {
				conv := m.Graph.Nodes()[0]
				near(t, "W", floatsOf(t, conv.Input(1)), []float64{6, 5})
				near(t, "B", floatsOf(t, conv.Input(2)), []float64{0, -3})
			},
		},
		{
			name: "Conv output read elsewhere: not fused",
			build: func(b *builder) *ir.Model {
				bnInputs(b.Input("X", ir.Float, 1, 1, 3, 3)).Floats("W", []int64{2, 1, 1, 1}, 3, 5)
				return b.Node("Conv", "X,W", "C").Node("BatchNormalization", "C,gamma,beta,mean,var", "Y").
					Node("Relu", "C", "Z").Output("Y", "Z").Model()
			},
			wantOps: "Conv,BatchNormalization,Relu",
		},
		{
			name: "BN in training mode: not fused",
			build: func(b *builder) *ir.Model {
				bnInputs(b.Input("X", ir.Float, 1, 1, 3, 3)).Floats("W", []int64{2, 1, 1, 1}, 3, 5)
				return b.Node("Conv", "X,W", "C").Node("BatchNormalization", "C,gamma,beta,mean,var", "Y", ir.IntAttr("training_mode", 1)).
					Output("Y").Model()
			},
			wantOps: "Conv,BatchNormalization",
		},
		{
			name: "non-constant BN parameters: not fused",
			build: func(b *builder) *ir.Model {
				b.Input("X", ir.Float, 1, 1, 3, 3).Input("gamma", ir.Float, 2).Floats("beta", []int64{2}, 1, -1).
					Floats("mean", []int64{2}, 0.5, 2).Floats("var", []int64{2}, 4, 0.25).Floats("W", []int64{2, 1, 1, 1}, 3, 5)
				return b.Node("Conv", "X,W", "C").Node("BatchNormalization", "C,gamma,beta,mean,var", "Y").Output("Y").Model()
			},
			wantOps: "Conv,BatchNormalization",
		},
		{
			name: "shared weights are copied, not changed in place",
			build: func(b *builder) *ir.Model {
				bnInputs(b.Input("X", ir.Float, 1, 1, 3, 3)).Floats("W", []int64{2, 1, 1, 1}, 3, 5)
				return b.Node("Conv", "X,W", "C").Node("BatchNormalization", "C,gamma,beta,mean,var", "Y").
					Node("Conv", "X,W", "Z").Output("Y", "Z").Model()
			},
			wantOps: "Conv,Conv",
			check: func(t *testing.T, m *ir.Model) {
				near(t, "W", floatsOf(t, m.Graph.Lookup("W")), []float64{3, 5})
				if m.Graph.Nodes()[0].Input(1).Name == "W" {
					t.Error("fused Conv still reads the shared W")
				}
			},
		},
		{
			name: "Gemm with transB and vector C",
			build: func(b *builder) *ir.Model {
				bnInputs(b.Input("X", ir.Float, 4, 3)).Floats("B", []int64{2, 3}, 1, 2, 3, 4, 5, 6).Floats("Cb", []int64{2}, 1, 1)
				return b.Node("Gemm", "X,B,Cb", "G", ir.IntAttr("transB", 1), ir.FloatAttr("beta", 2)).
					Node("BatchNormalization", "G,gamma,beta,mean,var", "Y", ir.FloatAttr("epsilon", 0)).Output("Y").Model()
			},
			wantOps: "Gemm",
			check: func(t *testing.T, m *ir.Model) {
				g := m.Graph.Nodes()[0]
				near(t, "B", floatsOf(t, g.Input(1)), []float64{2, 4, 6, 4, 5, 6})
				// C' = (beta*C - mean)*s + bias = (2-0.5)*2+1, (2-2)-1.
				near(t, "C", floatsOf(t, g.Input(2)), []float64{4, -1})
				if g.AttrFloat("beta", 1) != 1 {
					t.Errorf("beta = %v, want 1", g.AttrFloat("beta", 1))
				}
			},
		},
		{
			name: "2-D MatMul becomes MatMul + Add",
			build: func(b *builder) *ir.Model {
				bnInputs(b.Input("X", ir.Float, 4, 3)).Floats("B", []int64{3, 2}, 1, 2, 3, 4, 5, 6)
				return b.Node("MatMul", "X,B", "G").Node("BatchNormalization", "G,gamma,beta,mean,var", "Y").Output("Y").Model()
			},
			wantOps: "MatMul,Add",
		},
		{
			name: "3-D MatMul (BN over axis 1, not the last): not fused",
			build: func(b *builder) *ir.Model {
				bnInputs(b.Input("X", ir.Float, 1, 2, 3)).Floats("B", []int64{3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9)
				return b.Node("MatMul", "X,B", "G").Node("BatchNormalization", "G,gamma,beta,mean,var", "Y").Output("Y").Model()
			},
			wantOps: "MatMul,BatchNormalization",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder(t, 15))
			runPasses(t, m, "fuse_bn_into_conv,eliminate_dead")
			if got := ops(m); got != tc.wantOps {
				t.Errorf("ops = %q, want %q\n%s", got, tc.wantOps, ir.Format(m))
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func near(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
		return
	}
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
			t.Errorf("%s = %v, want %v", what, got, want)
			return
		}
	}
}
