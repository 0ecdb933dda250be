package signal

import (
	"math"
	"math/cmplx"
	"math/rand"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/internal/kerneltest"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func f64(shape []int64, v ...float64) *kernel.Tensor {
	return &kernel.Tensor{DType: ir.Double, Shape: shape, Data: v}
}
func scalar64(v int64) *kernel.Tensor { return kernel.FromInt64([]int64{}, []int64{v}) }

func naiveDFT(x []complex128, inverse bool) []complex128 {
	n := len(x)
	out := make([]complex128, n)
	sign := -1.0
	if inverse {
		sign = 1
	}
	for k := range out {
		for j, v := range x {
			out[k] += v * cmplx.Rect(1, sign*2*math.Pi*float64(k*j%n)/float64(n))
		}
	}
	return out
}

func TestFFTMatchesNaiveDFT(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 17, 31, 64, 100, 400} {
		for _, inverse := range []bool{false, true} {
			x := make([]complex128, n)
			for i := range x {
				x[i] = complex(rng.NormFloat64(), rng.NormFloat64())
			}
			want := naiveDFT(x, inverse)
			got := append([]complex128{}, x...)
			fft(got, inverse)
			for i := range got {
				if cmplx.Abs(got[i]-want[i]) > 1e-9*float64(n) {
					t.Fatalf("n=%d inverse=%v: bin %d = %v, want %v", n, inverse, i, got[i], want[i])
				}
			}
		}
	}
}

func checkClose(t *testing.T, got *kernel.Tensor, shape []int64, want []float64, tol float64) {
	t.Helper()
	if !kernel.SameShape(got.Shape, shape) {
		t.Fatalf("shape %v, want %v", got.Shape, shape)
	}
	var d []float64
	switch v := got.Data.(type) {
	case []float64:
		d = v
	case []float32:
		for _, x := range v {
			d = append(d, float64(x))
		}
	default:
		t.Fatalf("unexpected data %T", got.Data)
	}
	for i := range want {
		if math.Abs(d[i]-want[i]) > tol {
			t.Fatalf("element %d = %v, want %v (all %v)", i, d[i], want[i], d)
		}
	}
}

func TestDFT(t *testing.T) {
	// x = [1, 2, 3, 4] as a real signal of shape [1, 4, 1].
	real4 := func() *kernel.Tensor { return f64([]int64{1, 4, 1}, 1, 2, 3, 4) }
	// Its spectrum: [10, -2+2i, -2, -2-2i].
	spectrum := []float64{10, 0, -2, 2, -2, 0, -2, -2}
	tests := []struct {
		name   string
		opset  int64
		attrs  []*ir.Attr
		inputs []*kernel.Tensor
		shape  []int64
		want   []float64
	}{
		{"opset20 default axis", 20, nil, []*kernel.Tensor{real4()}, []int64{1, 4, 2}, spectrum},
		{"opset17 axis attribute", 17, []*ir.Attr{ir.IntAttr("axis", 1)}, []*kernel.Tensor{real4()}, []int64{1, 4, 2}, spectrum},
		{"axis input", 20, nil, []*kernel.Tensor{real4(), nil, scalar64(1)}, []int64{1, 4, 2}, spectrum},
		{"rfft", 20, []*ir.Attr{ir.IntAttr("onesided", 1)}, []*kernel.Tensor{real4()}, []int64{1, 3, 2}, spectrum[:6]},
		// dft_length 2 keeps [1, 2]: spectrum [3, -1].
		{"truncate", 20, nil, []*kernel.Tensor{real4(), scalar64(2)}, []int64{1, 2, 2}, []float64{3, 0, -1, 0}},
		// dft_length 8 zero-pads: bin 0 is still 10, bin 4 is 1-2+3-4.
		{"zero pad", 20, nil, []*kernel.Tensor{real4(), scalar64(8)}, []int64{1, 8, 2}, []float64{10, 0}},
		{"inverse", 20, []*ir.Attr{ir.IntAttr("inverse", 1)}, []*kernel.Tensor{f64([]int64{1, 4, 2}, spectrum...)},
			[]int64{1, 4, 2}, []float64{1, 0, 2, 0, 3, 0, 4, 0}},
		// IRFFT: default length 2·(3−1) = 4 rebuilds the real signal from the one-sided spectrum.
		{"irfft", 20, []*ir.Attr{ir.IntAttr("inverse", 1), ir.IntAttr("onesided", 1)},
			[]*kernel.Tensor{f64([]int64{1, 3, 2}, spectrum[:6]...)}, []int64{1, 4, 1}, []float64{1, 2, 3, 4}},
		// Axis 0 of a [2, 1, 1] signal [1, 5]: [6, -4].
		{"outer axis", 20, nil, []*kernel.Tensor{f64([]int64{2, 1, 1}, 1, 5), nil, scalar64(0)}, []int64{2, 1, 2}, []float64{6, 0, -4, 0}},
		// Negative axis −3 of a rank-3 input is axis 0.
		{"negative axis", 20, nil, []*kernel.Tensor{f64([]int64{2, 1, 1}, 1, 5), nil, scalar64(-3)}, []int64{2, 1, 2}, []float64{6, 0, -4, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkClose(t, kerneltest.MustRunOne(t, "DFT", tc.opset, tc.attrs, tc.inputs...), tc.shape, tc.want, 1e-12)
		})
	}
}

func TestDFTOddIRFFTRoundTrip(t *testing.T) {
	x := []float64{0.5, -1, 2, 7, 3}
	spec := kerneltest.MustRunOne(t, "DFT", 20, []*ir.Attr{ir.IntAttr("onesided", 1)}, f64([]int64{1, 5, 1}, x...))
	back := kerneltest.MustRunOne(t, "DFT", 20, []*ir.Attr{ir.IntAttr("inverse", 1), ir.IntAttr("onesided", 1)}, spec, scalar64(5))
	checkClose(t, back, []int64{1, 5, 1}, x, 1e-12)
}

func TestDFTErrors(t *testing.T) {
	tests := []struct {
		name   string
		inputs []*kernel.Tensor
		want   string
	}{
		{"last dim 3", []*kernel.Tensor{f64([]int64{1, 1, 3}, 1, 2, 3)}, "last of size 1"},
		{"axis on complex dim", []*kernel.Tensor{f64([]int64{1, 1}, 1), nil, scalar64(-1)}, "axis"},
		{"zero length", []*kernel.Tensor{f64([]int64{1, 1}, 1), scalar64(0)}, "dft_length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kerneltest.RunOne("DFT", 20, nil, tc.inputs...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	g := ir.NewGraph("t")
	n := g.NewNode("", "DFT", []*ir.Value{g.AddInput("x", nil)}, []string{"y"}, ir.IntAttr("axis", 1))
	def, _ := kernel.Lookup("", "DFT", 20, ir.Float)
	if _, err := def.New(&kernel.NodeInfo{Node: n, Opset: 20}); err == nil {
		t.Fatal("DFT-20 accepted an axis attribute")
	}
}

func TestSTFT(t *testing.T) {
	// Eight ones, frames of 4 every 2: 3 frames, each with DC = 4 and no other energy.
	ones := f64([]int64{1, 8, 1}, 1, 1, 1, 1, 1, 1, 1, 1)
	out := kerneltest.MustRunOne(t, "STFT", 17, nil, ones, scalar64(2), nil, scalar64(4))
	frame := []float64{4, 0, 0, 0, 0, 0}
	checkClose(t, out, []int64{1, 3, 3, 2}, append(append(append([]float64{}, frame...), frame...), frame...), 1e-12)

	// A window [0, 1, 1, 0] halves the DC; two-sided output keeps all 4 bins.
	ramp := f64([]int64{1, 4, 1}, 1, 2, 3, 4)
	out = kerneltest.MustRunOne(t, "STFT", 17, []*ir.Attr{ir.IntAttr("onesided", 0)}, ramp, scalar64(1), f64([]int64{4}, 0, 1, 1, 0))
	// Windowed frame [0, 2, 3, 0]: spectrum [5, -3-2i, 1, -3+2i].
	checkClose(t, out, []int64{1, 1, 4, 2}, []float64{5, 0, -3, -2, 1, 0, -3, 2}, 1e-12)

	if _, err := kerneltest.RunOne("STFT", 17, nil, ones, scalar64(0), nil, scalar64(4)); err == nil {
		t.Fatal("frame_step 0 was accepted")
	}
	if _, err := kerneltest.RunOne("STFT", 17, nil, ones, scalar64(1), nil, scalar64(9)); err == nil {
		t.Fatal("a frame longer than the signal was accepted")
	}
}

func TestWindows(t *testing.T) {
	size := func(n int64) *kernel.Tensor { return scalar64(n) }
	tests := []struct {
		name  string
		op    string
		attrs []*ir.Attr
		size  int64
		want  []float64
	}{
		{"hann periodic", "HannWindow", nil, 4, []float64{0, 0.5, 1, 0.5}},
		{"hann symmetric", "HannWindow", []*ir.Attr{ir.IntAttr("periodic", 0)}, 3, []float64{0, 1, 0}},
		{"hamming periodic", "HammingWindow", nil, 2, []float64{4.0 / 46, 1}},
		{"blackman symmetric", "BlackmanWindow", []*ir.Attr{ir.IntAttr("periodic", 0)}, 3, []float64{0, 1, 0}},
		{"one-point symmetric", "HannWindow", []*ir.Attr{ir.IntAttr("periodic", 0)}, 1, []float64{1}},
		{"empty", "HammingWindow", nil, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkClose(t, kerneltest.MustRunOne(t, tc.op, 17, tc.attrs, size(tc.size)), []int64{tc.size}, tc.want, 1e-7)
		})
	}
	out := kerneltest.MustRunOne(t, "HannWindow", 17, []*ir.Attr{ir.IntAttr("output_datatype", int64(ir.Double))}, size(4))
	checkClose(t, out, []int64{4}, []float64{0, 0.5, 1, 0.5}, 1e-15)
	out = kerneltest.MustRunOne(t, "HannWindow", 17, []*ir.Attr{ir.IntAttr("output_datatype", int64(ir.Int32))}, size(4))
	if d := out.Data.([]int32); d[2] != 1 || d[1] != 0 {
		t.Fatalf("int32 window %v, want [0 0 1 0]", d)
	}
	out = kerneltest.MustRunOne(t, "HannWindow", 17, nil, &kernel.Tensor{DType: ir.Int32, Shape: []int64{}, Data: []int32{2}})
	checkClose(t, out, []int64{2}, []float64{0, 1}, 1e-7)
	if _, err := kerneltest.RunOne("HannWindow", 17, []*ir.Attr{ir.IntAttr("output_datatype", int64(ir.String))}, size(2)); err == nil {
		t.Fatal("a string output_datatype was accepted")
	}
	if _, err := kerneltest.RunOne("HannWindow", 17, nil, size(-1)); err == nil {
		t.Fatal("a negative size was accepted")
	}
}

func TestMelWeightMatrix(t *testing.T) {
	// The example of the operator's documentation: 8 bins, DFT of 16, 8192 Hz, 0..4096 Hz.
	i32 := func(v int32) *kernel.Tensor {
		return &kernel.Tensor{DType: ir.Int32, Shape: []int64{}, Data: []int32{v}}
	}
	f := func(v float32) *kernel.Tensor { return kernel.FromFloat32([]int64{}, []float32{v}) }
	out := kerneltest.MustRunOne(t, "MelWeightMatrix", 17, nil, i32(8), i32(16), i32(8192), f(0), f(4096))
	want := make([]float64, 9*8)
	for _, rc := range [][2]int{{0, 0}, {0, 1}, {1, 2}, {1, 3}, {2, 4}, {3, 5}, {4, 6}, {5, 7}} {
		want[rc[0]*8+rc[1]] = 1
	}
	checkClose(t, out, []int64{9, 8}, want, 0)

	if _, err := kerneltest.RunOne("MelWeightMatrix", 17, nil, i32(8), i32(16), i32(8192), f(100), f(50)); err == nil {
		t.Fatal("upper edge below lower edge was accepted")
	}
}
