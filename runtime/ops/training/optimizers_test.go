package training

import (
	"math"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func scalarF(v float32) *kernel.Tensor { return kernel.FromFloat32(nil, []float32{v}) }
func scalarI(v int64) *kernel.Tensor   { return kernel.FromInt64(nil, []int64{v}) }
func vec(v ...float32) *kernel.Tensor  { return kernel.FromFloat32([]int64{int64(len(v))}, v) }

func TestOptimizers(t *testing.T) {
	sqrt := math.Sqrt
	tests := []struct {
		name   string
		f      kernel.Factory
		attrs  []*ir.Attr
		inputs []*kernel.Tensor
		want   [][]float64
	}{
		{"adagrad", newAdagrad, []*ir.Attr{ir.FloatAttr("decay_factor", 1), ir.FloatAttr("epsilon", 0), ir.FloatAttr("norm_coefficient", 0)},
			// r = 1/(1+1·1) = 0.5; H_new = 1+4 = 5; X_new = 3 - 0.5·2/√5.
			[]*kernel.Tensor{scalarF(1), scalarI(1), vec(3), vec(2), vec(1)},
			[][]float64{{3 - 1/sqrt(5)}, {5}}},
		{"momentum standard, first step", newMomentum, []*ir.Attr{ir.FloatAttr("alpha", 0.5), ir.FloatAttr("beta", 0.1),
			ir.StringAttr("mode", "standard"), ir.FloatAttr("norm_coefficient", 0)},
			// T = 0: beta is taken as 1; V_new = 0.5·4 + 2 = 4; X_new = 1 - 0.1·4.
			[]*kernel.Tensor{scalarF(0.1), scalarI(0), vec(1), vec(2), vec(4)},
			[][]float64{{0.6}, {4}}},
		{"momentum nesterov", newMomentum, []*ir.Attr{ir.FloatAttr("alpha", 0.5), ir.FloatAttr("beta", 0.1),
			ir.StringAttr("mode", "nesterov"), ir.FloatAttr("norm_coefficient", 0.5)},
			// G' = 0.5·1 + 2 = 2.5; V_new = 2 + 0.25 = 2.25; X_new = 1 - 0.1·(2.5 + 1.125).
			[]*kernel.Tensor{scalarF(0.1), scalarI(3), vec(1), vec(2), vec(4)},
			[][]float64{{1 - 0.3625}, {2.25}}},
		{"adam two variables", newAdam, []*ir.Attr{ir.FloatAttr("alpha", 0.5), ir.FloatAttr("beta", 0.5), ir.FloatAttr("epsilon", 0)},
			// V = 0.5·0 + 0.5·g, H = 0.5·g², rate = 1·√(1-0.5)/(1-0.5) = √2 at T = 1.
			[]*kernel.Tensor{scalarF(1), scalarI(1), vec(1), vec(2, 3), vec(2), vec(-4, 6), vec(0), vec(0, 0), vec(0), vec(0, 0)},
			[][]float64{{1 - sqrt(2)*1/sqrt(2)}, {2 + sqrt(2)*2/sqrt(8), 3 - sqrt(2)*3/sqrt(18)}, {1}, {-2, 3}, {2}, {8, 18}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := ir.NewGraph("g")
			n := g.NewNode(trainingDomain, "Opt", nil, nil, tc.attrs...)
			k, err := tc.f(&kernel.NodeInfo{Node: n})
			if err != nil {
				t.Fatal(err)
			}
			outs, err := k.Run(&kernel.Context{}, tc.inputs)
			if err != nil {
				t.Fatal(err)
			}
			if len(outs) != len(tc.want) {
				t.Fatalf("%d outputs, want %d", len(outs), len(tc.want))
			}
			for i, w := range tc.want {
				got := outs[i].Float32s()
				for j := range w {
					if math.Abs(float64(got[j])-w[j]) > 1e-6 {
						t.Fatalf("output %d: got %v, want %v", i, got, w)
					}
				}
			}
		})
	}
}

func TestOptimizerRejectsShapeMismatch(t *testing.T) {
	g := ir.NewGraph("g")
	n := g.NewNode(trainingDomain, "Adagrad", nil, nil)
	k, err := newAdagrad(&kernel.NodeInfo{Node: n})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Run(&kernel.Context{}, []*kernel.Tensor{scalarF(1), scalarI(0), vec(1, 2), vec(1), vec(1, 2)}); err == nil {
		t.Fatal("G of another shape than X was accepted")
	}
}
