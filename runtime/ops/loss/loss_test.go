package loss

import (
	"math"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/internal/kerneltest"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// runNode builds a single op node at opset (nil inputs are omitted) with nOut outputs and
// runs its kernel.
func runNode(t *testing.T, op string, opset int64, attrs []*ir.Attr, nOut int, inputs ...*kernel.Tensor) ([]*kernel.Tensor, error) {
	t.Helper()
	return kerneltest.Run(op, opset, attrs, nOut, inputs...)
}

func f32(shape []int64, v ...float32) *kernel.Tensor { return kernel.FromFloat32(shape, v) }
func i64(shape []int64, v ...int64) *kernel.Tensor   { return kernel.FromInt64(shape, v) }

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-5+1e-5*math.Abs(b)
}

func checkF32(t *testing.T, got *kernel.Tensor, shape []int64, want []float64) {
	t.Helper()
	if !kernel.SameShape(got.Shape, shape) {
		t.Fatalf("shape %v, want %v", got.Shape, shape)
	}
	d := got.Float32s()
	for i := range want {
		if !near(float64(d[i]), want[i]) {
			t.Fatalf("element %d = %v, want %v (all %v)", i, d[i], want[i], d)
		}
	}
}

// The spec's worked example: N=2, C=3, d1=2.
func exampleInput() *kernel.Tensor {
	return f32([]int64{2, 3, 2}, 1, 2, 2, 2, 3, 2, 0, 1, 2, 2, 1, 2)
}

func TestNLLLoss(t *testing.T) {
	target := func() *kernel.Tensor { return i64([]int64{2, 2}, 2, 1, 0, 2) }
	weight := func() *kernel.Tensor { return f32([]int64{3}, 0.2, 0.3, 0.1) }
	tests := []struct {
		name   string
		attrs  []*ir.Attr
		inputs []*kernel.Tensor
		shape  []int64
		want   []float64
	}{
		{"none", []*ir.Attr{ir.StringAttr("reduction", "none")}, []*kernel.Tensor{exampleInput(), target()},
			[]int64{2, 2}, []float64{-3, -2, -0, -2}},
		{"sum weighted", []*ir.Attr{ir.StringAttr("reduction", "sum")}, []*kernel.Tensor{exampleInput(), target(), weight()},
			[]int64{}, []float64{-1.1}},
		{"mean weighted", nil, []*kernel.Tensor{exampleInput(), target(), weight()},
			[]int64{}, []float64{-1.1 / 0.7}},
		{"mean unweighted", nil, []*kernel.Tensor{exampleInput(), target()},
			[]int64{}, []float64{-7.0 / 4}},
		// ignore_index 2 drops samples (0,0) and (1,1): mean over the 2 others.
		{"mean ignore", []*ir.Attr{ir.IntAttr("ignore_index", 2)}, []*kernel.Tensor{exampleInput(), target()},
			[]int64{}, []float64{-2.0 / 2}},
		{"mean ignore weighted", []*ir.Attr{ir.IntAttr("ignore_index", 2)}, []*kernel.Tensor{exampleInput(), target(), weight()},
			[]int64{}, []float64{(-2*0.3 - 0*0.2) / 0.5}},
		// Negative ignore_index with a matching negative target.
		{"negative ignore", []*ir.Attr{ir.IntAttr("ignore_index", -1), ir.StringAttr("reduction", "none")},
			[]*kernel.Tensor{f32([]int64{2, 2}, 1, 2, 3, 4), i64([]int64{2}, -1, 1)}, []int64{2}, []float64{0, -4}},
		{"all ignored mean is NaN", []*ir.Attr{ir.IntAttr("ignore_index", 0)},
			[]*kernel.Tensor{f32([]int64{1, 2}, 1, 2), i64([]int64{1}, 0)}, []int64{}, []float64{math.NaN()}},
		{"NC int32 target", []*ir.Attr{ir.StringAttr("reduction", "none")},
			[]*kernel.Tensor{f32([]int64{2, 2}, 1, 2, 3, 4), {DType: ir.Int32, Shape: []int64{2}, Data: []int32{1, 0}}}, []int64{2}, []float64{-2, -3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			outs, err := runNode(t, "NegativeLogLikelihoodLoss", 22, tc.attrs, 1, tc.inputs...)
			if err != nil {
				t.Fatal(err)
			}
			checkF32(t, outs[0], tc.shape, tc.want)
		})
	}
}

func TestNLLLossErrors(t *testing.T) {
	tests := []struct {
		name   string
		attrs  []*ir.Attr
		inputs []*kernel.Tensor
		want   string
	}{
		{"target out of range", nil, []*kernel.Tensor{f32([]int64{1, 2}, 1, 2), i64([]int64{1}, 2)}, "outside [0, 2)"},
		{"ignore_index does not excuse other labels", []*ir.Attr{ir.IntAttr("ignore_index", 5)},
			[]*kernel.Tensor{f32([]int64{1, 2}, 1, 2), i64([]int64{1}, -1)}, "outside"},
		{"target shape", nil, []*kernel.Tensor{f32([]int64{1, 2}, 1, 2), i64([]int64{2}, 0, 0)}, "target shape"},
		{"weight shape", nil, []*kernel.Tensor{f32([]int64{1, 2}, 1, 2), i64([]int64{1}, 0), f32([]int64{3}, 1, 1, 1)}, "weight shape"},
		{"bad reduction", []*ir.Attr{ir.StringAttr("reduction", "max")}, []*kernel.Tensor{f32([]int64{1, 2}, 1, 2), i64([]int64{1}, 0)}, "reduction"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runNode(t, "NegativeLogLikelihoodLoss", 13, tc.attrs, 1, tc.inputs...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestSoftmaxCrossEntropyLoss(t *testing.T) {
	// Scores of one sample over 3 classes: log-softmax of (0, ln 2, ln 5) is log(1/8, 2/8, 5/8).
	x := func() *kernel.Tensor { return f32([]int64{1, 3}, 0, float32(math.Log(2)), float32(math.Log(5))) }
	lp := []float64{math.Log(1.0 / 8), math.Log(2.0 / 8), math.Log(5.0 / 8)}
	outs, err := runNode(t, "SoftmaxCrossEntropyLoss", 13, []*ir.Attr{ir.StringAttr("reduction", "none")}, 2, x(), i64([]int64{1}, 2))
	if err != nil {
		t.Fatal(err)
	}
	checkF32(t, outs[0], []int64{1}, []float64{-lp[2]})
	checkF32(t, outs[1], []int64{1, 3}, lp)

	// Large scores must not overflow; the loss is shift invariant.
	big := f32([]int64{1, 3}, 1000, 1000+float32(math.Log(2)), 1000+float32(math.Log(5)))
	outs, err = runNode(t, "SoftmaxCrossEntropyLoss", 13, nil, 1, big, i64([]int64{1}, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 {
		t.Fatalf("%d outputs for a one-output node", len(outs))
	}
	if got := float64(outs[0].Float32s()[0]); math.Abs(got-(-lp[0])) > 1e-3 {
		t.Fatalf("loss %v, want %v", got, -lp[0])
	}

	// N-D: (N=1, C=2, d1=2), weights, mean.
	x3 := f32([]int64{1, 2, 2}, 0, 0, 0, 0) // uniform: every log-prob is log(1/2)
	outs, err = runNode(t, "SoftmaxCrossEntropyLoss", 13, nil, 1, x3, i64([]int64{1, 2}, 0, 1), f32([]int64{2}, 1, 3))
	if err != nil {
		t.Fatal(err)
	}
	checkF32(t, outs[0], []int64{}, []float64{math.Log(2)})
}

func TestFloat64AndHalf(t *testing.T) {
	x := &kernel.Tensor{DType: ir.Double, Shape: []int64{1, 2}, Data: []float64{-0.5, -1.5}}
	outs, err := runNode(t, "NegativeLogLikelihoodLoss", 22, nil, 1, x, i64([]int64{1}, 1))
	if err != nil {
		t.Fatal(err)
	}
	if d := outs[0].Data.([]float64); d[0] != 1.5 {
		t.Fatalf("got %v, want 1.5", d)
	}
	h := &kernel.Tensor{DType: ir.Float16, Shape: []int64{1, 2}, Data: []uint16{kernel.Float32ToFloat16(-0.5), kernel.Float32ToFloat16(-1.5)}}
	outs, err = runNode(t, "NegativeLogLikelihoodLoss", 22, nil, 1, h, i64([]int64{1}, 0))
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].DType != ir.Float16 || kernel.Float16ToFloat32(outs[0].Data.([]uint16)[0]) != 0.5 {
		t.Fatalf("got %v %v, want float16 0.5", outs[0], outs[0].Data)
	}
}
