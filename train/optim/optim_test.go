package optim

import (
	"math"
	"testing"

	"github.com/whittle-ml/whittle/train/grad"
)

func param(vals, grads []float32) *grad.Param {
	return &grad.Param{Name: "w", Shape: []int64{int64(len(vals))}, Value: vals, Grad: grads}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// The expected values are torch.optim's, worked by hand for two steps.
func TestSGDNesterovWeightDecay(t *testing.T) {
	p := param([]float32{1, -2}, []float32{0.5, 0.25})
	o := &SGD{Momentum: 0.9, WeightDecay: 0.1, Nesterov: true}
	o.Step([]*grad.Param{p}, 0.1)
	// d = g + 0.1·w = (0.6, 0.05); b = d; d' = d + 0.9·b = (1.14, 0.095).
	if !near(float64(p.Value[0]), 1-0.114) || !near(float64(p.Value[1]), -2-0.0095) {
		t.Fatalf("after step 1: %v", p.Value)
	}
	o.Step([]*grad.Param{p}, 0.1)
	// w = (0.886, -2.0095); d = (0.5886, 0.04905); b = 0.9·(0.6, 0.05) + d = (1.1286, 0.09405).
	want0 := 0.886 - 0.1*(0.5886+0.9*1.1286)
	if !near(float64(p.Value[0]), want0) {
		t.Fatalf("after step 2: %v, want %v", p.Value[0], want0)
	}
	s := o.State()
	o2 := &SGD{Momentum: 0.9, WeightDecay: 0.1, Nesterov: true}
	if err := o2.Load(s); err != nil || o2.steps != 2 || len(o2.bufs["w"]) != 2 {
		t.Fatalf("load: %v %+v", err, o2)
	}
}

func TestAdamW(t *testing.T) {
	p := param([]float32{1}, []float32{0.5})
	o := NewAdamW()
	o.Step([]*grad.Param{p}, 0.01)
	// Step 1: w = 1·(1 − 0.01·0.01); m̂ = g, v̂ = g², update lr·g/(|g| + ε) ≈ 0.01.
	want := 1*(1-0.0001) - 0.01*0.5/(0.5+1e-8)
	if !near(float64(p.Value[0]), want) {
		t.Fatalf("after step 1: %v, want %v", p.Value[0], want)
	}
}

func TestSchedules(t *testing.T) {
	c := Cosine{Warmup: 2}
	for step, want := range map[int]float64{0: 0.5, 1: 1, 2: 1, 6: 0.5} {
		if got := c.Factor(step, 10); !near(got, want) {
			t.Errorf("cosine factor at %d = %v, want %v", step, got, want)
		}
	}
	s, err := ParseSchedule("step:every=3:gamma=0.5")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Factor(7, 10); got != 0.25 {
		t.Errorf("step factor at 7 = %v, want 0.25", got)
	}
	for _, bad := range []string{"linear", "step", "cosine:warmup", "cosine:speed=2"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
}

func TestClipAndMasks(t *testing.T) {
	p := &grad.Param{Name: "w", Shape: []int64{2, 2}, Value: []float32{0, 1, 0, 2}, Grad: []float32{3, 0, 0, 4}}
	if n := ClipGradNorm([]*grad.Param{p}, 1); !near(n, 5) || !near(float64(p.Grad[3]), 0.8) {
		t.Errorf("norm %v, clipped grad %v", n, p.Grad)
	}
	m := ZeroMasks([]*grad.Param{p, {Name: "b", Shape: []int64{2}, Value: []float32{0, 0}, Grad: []float32{1, 1}}})
	if m.Masked() != 2 {
		t.Fatalf("masked %d weights, want 2 (the bias is never masked)", m.Masked())
	}
	m.Grads()
	if p.Grad[0] != 0 {
		t.Error("masked gradient not zeroed")
	}
	p.Value[2] = 5
	m.Values()
	if p.Value[2] != 0 || p.Value[3] != 2 {
		t.Errorf("values after masking: %v", p.Value)
	}
}
