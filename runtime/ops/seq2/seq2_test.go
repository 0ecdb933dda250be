package seq2

import (
	"math"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func build(t *testing.T, f kernel.Factory, domain, op string, attrs ...*ir.Attr) kernel.Kernel {
	t.Helper()
	g := ir.NewGraph("g")
	n := g.NewNode(domain, op, nil, []string{"y", "state"}, attrs...)
	k, err := f(&kernel.NodeInfo{Node: n})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func near(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %v", what, len(got), got, want)
	}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-5 {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

func TestCausalConvWithState(t *testing.T) {
	// One channel, k = 3: y[t] = w0·x[t-2] + w1·x[t-1] + w2·x[t] (+ bias).
	x := kernel.FromFloat32([]int64{1, 1, 3}, []float32{1, 2, 3})
	w := kernel.FromFloat32([]int64{1, 1, 3}, []float32{1, 10, 100})
	past := kernel.FromFloat32([]int64{1, 1, 2}, []float32{5, 6})
	silu := func(v float64) float64 { return v / (1 + math.Exp(-v)) }
	tests := []struct {
		name       string
		attrs      []*ir.Attr
		inputs     []*kernel.Tensor
		want, next []float64
	}{
		{"zero history", nil, []*kernel.Tensor{x, w}, []float64{100, 210, 321}, []float64{2, 3}},
		{"past state and bias", nil, []*kernel.Tensor{x, w, kernel.FromFloat32([]int64{1}, []float32{0.5}), past},
			[]float64{5 + 60 + 100 + 0.5, 6 + 10 + 200 + 0.5, 1 + 20 + 300 + 0.5}, []float64{2, 3}},
		{"silu", []*ir.Attr{ir.StringAttr("activation", "silu")}, []*kernel.Tensor{kernel.FromFloat32([]int64{1, 1, 1}, []float32{-0.01}), w, nil, past},
			[]float64{silu(5 + 60 - 1)}, []float64{6, -0.01}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := build(t, newCausalConv, "", "CausalConvWithState", tc.attrs...).Run(&kernel.Context{}, tc.inputs)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "output", out[0].Float32s(), tc.want)
			near(t, "present_state", out[1].Float32s(), tc.next)
		})
	}
}

func TestLinearAttentionRules(t *testing.T) {
	// One head, d_k = d_v = 1, so every state is a scalar s and o = scale·q·s.
	q := kernel.FromFloat32([]int64{1, 2, 1}, []float32{1, 2})
	k := kernel.FromFloat32([]int64{1, 2, 1}, []float32{1, 1})
	v := kernel.FromFloat32([]int64{1, 2, 1}, []float32{3, 5})
	past := kernel.FromFloat32([]int64{1, 1, 1, 1}, []float32{1})
	decay := kernel.FromFloat32([]int64{1, 2, 1}, []float32{float32(math.Log(0.5)), float32(math.Log(0.5))})
	beta := kernel.FromFloat32([]int64{1, 2, 1}, []float32{0.5, 0.5})
	tests := []struct {
		rule      string
		inputs    []*kernel.Tensor
		out, next []float64
	}{
		// s: 1 → 1+3 = 4 → 4+5 = 9.
		{"linear", []*kernel.Tensor{q, k, v, past}, []float64{4, 18}, []float64{9}},
		// s: 1 → 0.5+3 = 3.5 → 1.75+5 = 6.75.
		{"gated", []*kernel.Tensor{q, k, v, past, decay}, []float64{3.5, 13.5}, []float64{6.75}},
		// s: 1 → 1+0.5(3-1) = 2 → 2+0.5(5-2) = 3.5.
		{"delta", []*kernel.Tensor{q, k, v, past, nil, beta}, []float64{2, 7}, []float64{3.5}},
		// s: 1 → 0.5+0.5(3-0.5) = 1.75 → 0.875+0.5(5-0.875) = 2.9375.
		{"gated_delta", []*kernel.Tensor{q, k, v, past, decay, beta}, []float64{1.75, 5.875}, []float64{2.9375}},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			kr := build(t, newLinearAttention, "", "LinearAttention", ir.IntAttr("q_num_heads", 1), ir.IntAttr("kv_num_heads", 1),
				ir.StringAttr("update_rule", tc.rule), ir.FloatAttr("scale", 1))
			out, err := kr.Run(&kernel.Context{}, tc.inputs)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "output", out[0].Float32s(), tc.out)
			near(t, "present_state", out[1].Float32s(), tc.next)
		})
	}
	kr := build(t, newLinearAttention, "", "LinearAttention", ir.IntAttr("q_num_heads", 1), ir.IntAttr("kv_num_heads", 1))
	if _, err := kr.Run(&kernel.Context{}, []*kernel.Tensor{q, k, v}); err == nil {
		t.Fatal("gated_delta without decay and beta was accepted")
	}
}

func TestFlexAttentionGQA(t *testing.T) {
	// Two query heads share one K/V head. Equal keys give uniform probabilities, so each
	// query reads the mean of V; the second head's scores do not matter either.
	q := kernel.FromFloat32([]int64{1, 2, 1, 2}, []float32{1, 2, -3, 4})
	k := kernel.FromFloat32([]int64{1, 1, 2, 2}, []float32{1, 1, 1, 1})
	v := kernel.FromFloat32([]int64{1, 1, 2, 1}, []float32{2, 6})
	out, err := build(t, newFlexAttention, previewDomain, "FlexAttention").Run(&kernel.Context{}, []*kernel.Tensor{q, k, v})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "Y", out[0].Float32s(), []float64{4, 4})
	// Distinct keys: softmax over scale·q·k.
	k2 := kernel.FromFloat32([]int64{1, 1, 2, 2}, []float32{1, 0, 0, 1})
	out, err = build(t, newFlexAttention, previewDomain, "FlexAttention", ir.FloatAttr("scale", 1)).Run(&kernel.Context{}, []*kernel.Tensor{q, k2, v})
	if err != nil {
		t.Fatal(err)
	}
	p := func(a, b float64) float64 { return math.Exp(a) / (math.Exp(a) + math.Exp(b)) }
	near(t, "Y", out[0].Float32s(), []float64{2*p(1, 2) + 6*p(2, 1), 2*p(-3, 4) + 6*p(4, -3)})
}
