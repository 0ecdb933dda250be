package loss

import (
	"math"
	"math/rand"
	"testing"

	"github.com/whittle-ml/whittle/runtime/kernel"
)

type values map[string]*kernel.Tensor

func (v values) Value(name string) *kernel.Tensor { return v[name] }

func randTensor(rng *rand.Rand, shape ...int64) *kernel.Tensor {
	t := kernel.New(1, shape...)
	for i := range t.Float32s() {
		t.Float32s()[i] = float32(rng.NormFloat64())
	}
	return t
}

// TestGradientsAgainstFiniteDifferences checks every loss's gradient numerically.
func TestGradientsAgainstFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	x := randTensor(rng, 4, 5)
	batch := &Batch{Labels: []int64{0, 4, 2, 2}, Targets: map[string]*kernel.Tensor{"t": randTensor(rng, 4, 5)}}
	cases := map[string]Loss{
		"ce":          CrossEntropy{Logits: "x"},
		"ce_smoothed": CrossEntropy{Logits: "x", LabelSmoothing: 0.1},
		"kd":          KLDiv{Logits: "x", Teacher: "t", Temperature: 4},
		"mse":         MSE{Tensor: "x", Target: "t"},
		"cosine":      Cosine{Tensor: "x", Target: "t"},
		"weighted": Weighted{{0.7, KLDiv{Logits: "x", Teacher: "t", Temperature: 2}},
			{0.3, CrossEntropy{Logits: "x"}}, {0.5, MSE{Tensor: "x", Target: "t"}}},
	}
	for name, l := range cases {
		t.Run(name, func(t *testing.T) {
			v := values{"x": x}
			grads := map[string][]float32{}
			if _, err := l.Eval(v, batch, grads); err != nil {
				t.Fatal(err)
			}
			g := grads["x"]
			const h = 1e-3
			d := x.Float32s()
			for i := range d {
				orig := d[i]
				d[i] = orig + h
				lp, _ := l.Eval(v, batch, map[string][]float32{})
				d[i] = orig - h
				lm, _ := l.Eval(v, batch, map[string][]float32{})
				d[i] = orig
				num := (lp - lm) / (2 * h)
				if math.Abs(num-float64(g[i])) > 1e-3*math.Max(1, math.Abs(num)) {
					t.Errorf("d/dx[%d] = %.6f, numeric %.6f", i, g[i], num)
				}
			}
		})
	}
}

func TestKnownValues(t *testing.T) {
	uniform := kernel.FromFloat32([]int64{2, 4}, make([]float32, 8))
	v := values{"x": uniform, "y": uniform}
	b := &Batch{Labels: []int64{1, 3}, Targets: map[string]*kernel.Tensor{"t": uniform}}
	ce, err := CrossEntropy{Logits: "x", LabelSmoothing: 0.2}.Eval(v, b, map[string][]float32{})
	if err != nil || math.Abs(ce-math.Log(4)) > 1e-9 {
		t.Errorf("cross-entropy of uniform logits %v (%v), want ln 4", ce, err)
	}
	kl, err := KLDiv{Logits: "x", Teacher: "t", Temperature: 3}.Eval(v, b, map[string][]float32{})
	if err != nil || math.Abs(kl) > 1e-12 {
		t.Errorf("KL of identical distributions %v (%v), want 0", kl, err)
	}
	if _, err := (CrossEntropy{Logits: "x"}).Eval(v, &Batch{Labels: []int64{1, 7}}, map[string][]float32{}); err == nil {
		t.Error("a label outside the classes was accepted")
	}
	if _, err := (CrossEntropy{Logits: "x"}).Eval(v, &Batch{}, map[string][]float32{}); err == nil {
		t.Error("cross-entropy without labels was accepted")
	}
	if _, err := (MSE{Tensor: "x", Target: "missing"}).Eval(v, b, map[string][]float32{}); err == nil {
		t.Error("a missing target was accepted")
	}
}
