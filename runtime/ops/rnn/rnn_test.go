package rnn

import (
	"math"
	"reflect"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// runCell builds op with attrs and inputs (nil entries are omitted inputs) and returns
// its outputs Y, Y_h (and Y_c for LSTM).
func runCell(t *testing.T, op string, attrs []*ir.Attr, inputs ...*kernel.Tensor) []*kernel.Tensor {
	t.Helper()
	g := ir.NewGraph("t")
	vals := make([]*ir.Value, len(inputs))
	for i, in := range inputs {
		if in != nil {
			vals[i] = g.AddInput(string(rune('a'+i)), ir.TensorTypeOf(in.DType, in.Shape...))
		}
	}
	outs := []string{"Y", "Y_h"}
	if op == "LSTM" {
		outs = append(outs, "Y_c")
	}
	n := g.NewNode("", op, vals, outs, attrs...)
	def, err := kernel.Lookup("", op, 22, ir.Float)
	if err != nil {
		t.Fatal(err)
	}
	k, err := def.New(&kernel.NodeInfo{Node: n, Opset: 22})
	if err != nil {
		t.Fatal(err)
	}
	res, err := k.Run(&kernel.Context{}, inputs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func f32(shape []int64, v ...float64) *kernel.Tensor {
	d := make([]float32, len(v))
	for i, x := range v {
		d[i] = float32(x)
	}
	return kernel.FromFloat32(shape, d)
}

func check(t *testing.T, what string, got *kernel.Tensor, shape []int64, want ...float64) {
	t.Helper()
	if !reflect.DeepEqual(got.Shape, shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, shape)
	}
	g := got.Float32s()
	for i := range want {
		if math.Abs(float64(g[i])-want[i]) > 1e-6 {
			t.Errorf("%s[%d] = %v, want %v", what, i, g[i], want[i])
		}
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func hidden(n int64) *ir.Attr { return ir.IntAttr("hidden_size", n) }

func TestRNNDirections(t *testing.T) {
	// One unit, one input: h_t = tanh(2 x_t + 0.5 h_{t-1}); X = [1, 0] over two steps.
	X := f32([]int64{2, 1, 1}, 1, 0)
	W, R := f32([]int64{1, 1, 1}, 2), f32([]int64{1, 1, 1}, 0.5)
	h1 := math.Tanh(2)
	h2 := math.Tanh(0.5 * h1)

	out := runCell(t, "RNN", []*ir.Attr{hidden(1)}, X, W, R)
	check(t, "forward Y", out[0], []int64{2, 1, 1, 1}, h1, h2)
	check(t, "forward Y_h", out[1], []int64{1, 1, 1}, h2)

	// Reverse reads x_1 = 0 first (h = 0), then x_0.
	out = runCell(t, "RNN", []*ir.Attr{hidden(1), ir.StringAttr("direction", "reverse")}, X, W, R)
	check(t, "reverse Y", out[0], []int64{2, 1, 1, 1}, h1, 0)
	check(t, "reverse Y_h", out[1], []int64{1, 1, 1}, h1)

	W2, R2 := f32([]int64{2, 1, 1}, 2, 2), f32([]int64{2, 1, 1}, 0.5, 0.5)
	out = runCell(t, "RNN", []*ir.Attr{hidden(1), ir.StringAttr("direction", "bidirectional")}, X, W2, R2)
	// Y is [seq, dir, batch, hidden].
	check(t, "bidirectional Y", out[0], []int64{2, 2, 1, 1}, h1, h1, h2, 0)
	check(t, "bidirectional Y_h", out[1], []int64{2, 1, 1}, h2, h1)
}

func TestRNNSequenceLensAndLayout(t *testing.T) {
	// Two batch entries, the second only one step long. Layout 1: X is [batch, seq, input].
	X := f32([]int64{2, 2, 1}, 1, 0, 1, 5)
	W, R := f32([]int64{1, 1, 1}, 2), f32([]int64{1, 1, 1}, 0.5)
	lens := &kernel.Tensor{DType: ir.Int32, Shape: []int64{2}, Data: []int32{2, 1}}
	h1 := math.Tanh(2)
	h2 := math.Tanh(0.5 * h1)
	out := runCell(t, "RNN", []*ir.Attr{hidden(1), ir.IntAttr("layout", 1)}, X, W, R, nil, lens)
	// Y is [batch, seq, dir, hidden]; the padded step of entry 1 is zero.
	check(t, "Y", out[0], []int64{2, 2, 1, 1}, h1, h2, h1, 0)
	check(t, "Y_h", out[1], []int64{2, 1, 1}, h2, h1)
}

func TestRNNInitialStateBiasClipAndActivation(t *testing.T) {
	X := f32([]int64{1, 1, 1}, 1)
	W, R := f32([]int64{1, 1, 1}, 10), f32([]int64{1, 1, 1}, 1)
	B := f32([]int64{1, 2}, 0.25, 0.5)
	h0 := f32([]int64{1, 1, 1}, -3)
	// pre = 10 + (-3) + 0.75 = 7.75, clipped to 1.
	out := runCell(t, "RNN", []*ir.Attr{hidden(1), ir.FloatAttr("clip", 1)}, X, W, R, B, nil, h0)
	check(t, "clip", out[1], []int64{1, 1, 1}, math.Tanh(1))
	// Affine(alpha=2, beta=1) instead of tanh.
	out = runCell(t, "RNN", []*ir.Attr{hidden(1), stringsAttr("activations", "Affine"),
		ir.FloatsAttr("activation_alpha", 2), ir.FloatsAttr("activation_beta", 1)}, X, W, R, B, nil, h0)
	check(t, "affine", out[1], []int64{1, 1, 1}, 2*7.75+1)
}

func TestGRULinearBeforeReset(t *testing.T) {
	// W and R rows are z, r, h. Only the h gate has weights: W_h = 1, R_h = 1, Rb_h = 1.
	X := f32([]int64{2, 1, 1}, 1, 0)
	W := f32([]int64{1, 3, 1}, 0, 0, 1)
	R := f32([]int64{1, 3, 1}, 0, 0, 1)
	B := f32([]int64{1, 6}, 0, 0, 0, 0, 0, 1)
	z, r := 0.5, 0.5 // sigmoid(0)
	for _, lbr := range []int64{0, 1} {
		h := 0.0
		var hs []float64
		for _, x := range []float64{1, 0} {
			var cand float64
			if lbr == 0 {
				cand = math.Tanh(x + 1*(r*h) + 1)
			} else {
				cand = math.Tanh(x + r*(1*h+1))
			}
			h = (1-z)*cand + z*h
			hs = append(hs, h)
		}
		out := runCell(t, "GRU", []*ir.Attr{hidden(1), ir.IntAttr("linear_before_reset", lbr)}, X, W, R, B)
		check(t, "GRU Y", out[0], []int64{2, 1, 1, 1}, hs...)
		check(t, "GRU Y_h", out[1], []int64{1, 1, 1}, hs[1])
	}
}

func TestLSTM(t *testing.T) {
	X := f32([]int64{1, 1, 1}, 3)
	W, R := f32([]int64{1, 4, 1}, 0, 0, 0, 0), f32([]int64{1, 4, 1}, 0, 0, 0, 0)
	h0, c0 := f32([]int64{1, 1, 1}, 0), f32([]int64{1, 1, 1}, 1)
	// All gates see 0: i = f = o = 1/2, candidate tanh(0) = 0.
	out := runCell(t, "LSTM", []*ir.Attr{hidden(1)}, X, W, R, nil, nil, h0, c0)
	check(t, "Y_c", out[2], []int64{1, 1, 1}, 0.5)
	check(t, "Y_h", out[1], []int64{1, 1, 1}, 0.5*math.Tanh(0.5))

	// Peepholes P = (i, o, f) = (1, 2, 3): i and f see c_{t-1} = 1, o sees the new c.
	P := f32([]int64{1, 3}, 1, 2, 3)
	i, f := sigmoid(1), sigmoid(3)
	c := f*1 + i*math.Tanh(0)
	o := sigmoid(2 * c)
	out = runCell(t, "LSTM", []*ir.Attr{hidden(1)}, X, W, R, nil, nil, h0, c0, P)
	check(t, "peephole Y_c", out[2], []int64{1, 1, 1}, c)
	check(t, "peephole Y_h", out[1], []int64{1, 1, 1}, o*math.Tanh(c))

	// input_forget: f = 1 - i = 1 - sigmoid(1).
	out = runCell(t, "LSTM", []*ir.Attr{hidden(1), ir.IntAttr("input_forget", 1)}, X, W, R, nil, nil, h0, c0, P)
	check(t, "input_forget Y_c", out[2], []int64{1, 1, 1}, 1-sigmoid(1))
}

func TestBadAttributes(t *testing.T) {
	g := ir.NewGraph("t")
	for _, attrs := range [][]*ir.Attr{
		{ir.StringAttr("direction", "sideways")},
		{ir.IntAttr("layout", 2)},
		{stringsAttr("activations", "Nope")},
		{stringsAttr("activations", "Tanh", "Tanh", "Tanh")},
	} {
		n := g.NewNode("", "RNN", nil, []string{"Y"}, attrs...)
		def, err := kernel.Lookup("", "RNN", 22, ir.Float)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := def.New(&kernel.NodeInfo{Node: n, Opset: 22}); err == nil {
			t.Errorf("attrs %v: no error", attrs[0].Name)
		}
	}
}

func stringsAttr(name string, v ...string) *ir.Attr {
	return &ir.Attr{Name: name, Type: ir.AttrStrings, Strings: v}
}
