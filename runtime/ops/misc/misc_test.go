package misc

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/internal/kerneltest"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func expectError(t *testing.T, want string, op string, opset int64, attrs []*ir.Attr, inputs ...*kernel.Tensor) {
	t.Helper()
	_, err := kerneltest.RunOne(op, opset, attrs, inputs...)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
}

func f32(shape []int64, v ...float32) *kernel.Tensor { return kernel.FromFloat32(shape, v) }
func i64(shape []int64, v ...int64) *kernel.Tensor   { return kernel.FromInt64(shape, v) }
func scalar(v int64) *kernel.Tensor                  { return i64([]int64{}, v) }

func checkF32(t *testing.T, got *kernel.Tensor, shape []int64, want []float32, tol float64) {
	t.Helper()
	if !kernel.SameShape(got.Shape, shape) {
		t.Fatalf("shape %v, want %v", got.Shape, shape)
	}
	d := got.Float32s()
	if len(d) != len(want) {
		t.Fatalf("%d elements, want %d", len(d), len(want))
	}
	for i := range want {
		if math.Abs(float64(d[i]-want[i])) > tol {
			t.Fatalf("element %d = %v, want %v (all %v)", i, d[i], want[i], d)
		}
	}
}

func TestBitCast(t *testing.T) {
	out := kerneltest.MustRunOne(t, "BitCast", 26, []*ir.Attr{ir.IntAttr("to", int64(ir.Int32))}, f32([]int64{2}, 1, -2))
	if d := out.Data.([]int32); out.DType != ir.Int32 || d[0] != 0x3f800000 || d[1] != -0x40000000 {
		t.Fatalf("got %v %x", out, d)
	}
	out = kerneltest.MustRunOne(t, "BitCast", 26, []*ir.Attr{ir.IntAttr("to", int64(ir.Uint8))},
		&kernel.Tensor{DType: ir.Int8, Shape: []int64{2}, Data: []int8{-1, 5}})
	if d := out.Data.([]uint8); !reflect.DeepEqual(d, []uint8{255, 5}) {
		t.Fatalf("got %v", d)
	}
	out = kerneltest.MustRunOne(t, "BitCast", 26, []*ir.Attr{ir.IntAttr("to", int64(ir.Float16))},
		&kernel.Tensor{DType: ir.Uint16, Shape: []int64{}, Data: []uint16{0x3c00}})
	if out.DType != ir.Float16 || kernel.Float16ToFloat32(out.Data.([]uint16)[0]) != 1 {
		t.Fatalf("got %v %v", out, out.Data)
	}
	expectError(t, "bits", "BitCast", 26, []*ir.Attr{ir.IntAttr("to", int64(ir.Int64))}, f32([]int64{1}, 1))
	expectError(t, "cannot bitcast to", "BitCast", 26, []*ir.Attr{ir.IntAttr("to", int64(ir.String))}, f32([]int64{1}, 1))
}

func TestCumProd(t *testing.T) {
	x := func() *kernel.Tensor { return f32([]int64{3}, 1, 2, 3) }
	tests := []struct {
		name  string
		attrs []*ir.Attr
		want  []float32
	}{
		{"inclusive", nil, []float32{1, 2, 6}},
		{"exclusive", []*ir.Attr{ir.IntAttr("exclusive", 1)}, []float32{1, 1, 2}},
		{"reverse", []*ir.Attr{ir.IntAttr("reverse", 1)}, []float32{6, 6, 3}},
		{"reverse exclusive", []*ir.Attr{ir.IntAttr("reverse", 1), ir.IntAttr("exclusive", 1)}, []float32{6, 3, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkF32(t, kerneltest.MustRunOne(t, "CumProd", 26, tc.attrs, x(), scalar(0)), []int64{3}, tc.want, 0)
		})
	}
	// 2-D along axis −1 (int32 axis), int64 data wrapping like the type.
	out := kerneltest.MustRunOne(t, "CumProd", 26, nil, i64([]int64{2, 2}, 2, 3, math.MaxInt64, 2),
		&kernel.Tensor{DType: ir.Int32, Shape: []int64{}, Data: []int32{-1}})
	if d := out.Int64s(); !reflect.DeepEqual(d, []int64{2, 6, math.MaxInt64, -2}) {
		t.Fatalf("got %v", d)
	}
	expectError(t, "out of range", "CumProd", 26, nil, x(), scalar(1))
}

func TestTensorScatter(t *testing.T) {
	// Cache [batch 2, seq 3, 1]; update of 2 positions per batch.
	past := func() *kernel.Tensor { return f32([]int64{2, 3, 1}, 0, 0, 0, 0, 0, 0) }
	upd := func() *kernel.Tensor { return f32([]int64{2, 2, 1}, 1, 2, 3, 4) }
	checkF32(t, kerneltest.MustRunOne(t, "TensorScatter", 24, []*ir.Attr{ir.IntAttr("axis", 1)}, past(), upd()),
		[]int64{2, 3, 1}, []float32{1, 2, 0, 3, 4, 0}, 0)
	checkF32(t, kerneltest.MustRunOne(t, "TensorScatter", 24, []*ir.Attr{ir.IntAttr("axis", 1)}, past(), upd(), i64([]int64{2}, 1, 0)),
		[]int64{2, 3, 1}, []float32{0, 1, 2, 3, 4, 0}, 0)
	checkF32(t, kerneltest.MustRunOne(t, "TensorScatter", 24, []*ir.Attr{ir.IntAttr("axis", 1), ir.StringAttr("mode", "circular")},
		past(), upd(), i64([]int64{2}, 2, 0)), []int64{2, 3, 1}, []float32{2, 0, 1, 3, 4, 0}, 0)
	expectError(t, "does not fit", "TensorScatter", 24, []*ir.Attr{ir.IntAttr("axis", 1)}, past(), upd(), i64([]int64{2}, 2, 0))
	expectError(t, "batch axis", "TensorScatter", 24, []*ir.Attr{ir.IntAttr("axis", 0)}, past(), upd())
	// Strings move too.
	s := kerneltest.MustRunOne(t, "TensorScatter", 24, nil,
		&kernel.Tensor{DType: ir.String, Shape: []int64{1, 2, 1}, Data: []string{"a", "b"}},
		&kernel.Tensor{DType: ir.String, Shape: []int64{1, 1, 1}, Data: []string{"z"}}, i64([]int64{1}, 1))
	if d := s.Data.([]string); !reflect.DeepEqual(d, []string{"a", "z"}) {
		t.Fatalf("got %v", d)
	}
}

func TestAffineGrid(t *testing.T) {
	identity := func() *kernel.Tensor { return f32([]int64{1, 2, 3}, 1, 0, 0, 0, 1, 0) }
	// 2×2 grid: corners at ±1 with align_corners, ±0.5 without; (x, y) with x along width.
	checkF32(t, kerneltest.MustRunOne(t, "AffineGrid", 20, []*ir.Attr{ir.IntAttr("align_corners", 1)}, identity(), i64([]int64{4}, 1, 1, 2, 2)),
		[]int64{1, 2, 2, 2}, []float32{-1, -1, 1, -1, -1, 1, 1, 1}, 1e-7)
	checkF32(t, kerneltest.MustRunOne(t, "AffineGrid", 20, nil, identity(), i64([]int64{4}, 1, 1, 2, 2)),
		[]int64{1, 2, 2, 2}, []float32{-0.5, -0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0.5}, 1e-7)
	// A translation by (0.25, -1) on a 1×1 grid (position 0).
	checkF32(t, kerneltest.MustRunOne(t, "AffineGrid", 20, nil, f32([]int64{1, 2, 3}, 1, 0, 0.25, 0, 1, -1), i64([]int64{4}, 1, 3, 1, 1)),
		[]int64{1, 1, 1, 2}, []float32{0.25, -1}, 1e-7)
	// 3-D identity, 1×1×2: x varies along the last axis; y and z are 0.
	checkF32(t, kerneltest.MustRunOne(t, "AffineGrid", 20, nil, f32([]int64{1, 3, 4}, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0), i64([]int64{5}, 1, 1, 1, 1, 2)),
		[]int64{1, 1, 1, 2, 3}, []float32{-0.5, 0, 0, 0.5, 0, 0}, 1e-7)
	expectError(t, "theta shape", "AffineGrid", 20, nil, identity(), i64([]int64{4}, 2, 1, 2, 2))
}

func TestCol2Im(t *testing.T) {
	// 1 channel, 3×3 image, 2×2 blocks (4 positions): every column entry is 1, so each
	// pixel counts the blocks covering it.
	ones := make([]float32, 16)
	for i := range ones {
		ones[i] = 1
	}
	checkF32(t, kerneltest.MustRunOne(t, "Col2Im", 18, nil, f32([]int64{1, 4, 4}, ones...), i64([]int64{2}, 3, 3), i64([]int64{2}, 2, 2)),
		[]int64{1, 1, 3, 3}, []float32{1, 2, 1, 2, 4, 2, 1, 2, 1}, 0)
	// Padding 1 on every side: 16 block positions on a 2×2 image, each pixel covered 4 times.
	ones64 := make([]float32, 4*9)
	for i := range ones64 {
		ones64[i] = 1
	}
	checkF32(t, kerneltest.MustRunOne(t, "Col2Im", 18, []*ir.Attr{ir.IntsAttr("pads", 1, 1, 1, 1)}, f32([]int64{1, 4, 9}, ones64...),
		i64([]int64{2}, 2, 2), i64([]int64{2}, 2, 2)), []int64{1, 1, 2, 2}, []float32{4, 4, 4, 4}, 0)
	// Integer data, 1-D-like 1×4 image with 1×2 blocks stride 2: no overlap.
	out := kerneltest.MustRunOne(t, "Col2Im", 18, []*ir.Attr{ir.IntsAttr("strides", 1, 2)},
		i64([]int64{1, 2, 2}, 1, 3, 2, 4), i64([]int64{2}, 1, 4), i64([]int64{2}, 1, 2))
	if d := out.Int64s(); !reflect.DeepEqual(d, []int64{1, 2, 3, 4}) {
		t.Fatalf("got %v", d)
	}
	expectError(t, "blocks", "Col2Im", 18, nil, f32([]int64{1, 4, 3}, ones[:12]...), i64([]int64{2}, 3, 3), i64([]int64{2}, 2, 2))
}

func TestDeformConv(t *testing.T) {
	x := func() *kernel.Tensor { return f32([]int64{1, 1, 2, 2}, 1, 2, 3, 4) }
	w := func() *kernel.Tensor { return f32([]int64{1, 1, 1, 1}, 2) }
	// 1×1 kernel, zero offsets: a plain 1×1 convolution.
	checkF32(t, kerneltest.MustRunOne(t, "DeformConv", 22, nil, x(), w(), f32([]int64{1, 2, 2, 2}, make([]float32, 8)...)),
		[]int64{1, 1, 2, 2}, []float32{2, 4, 6, 8}, 1e-6)
	// Offsets (0, 0.5) sample halfway to the right neighbour; past the edge samples mix with
	// zero. Mask halves everything and the bias adds 1.
	off := f32([]int64{1, 2, 2, 2}, 0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5)
	mask := f32([]int64{1, 1, 2, 2}, 0.5, 0.5, 0.5, 0.5)
	checkF32(t, kerneltest.MustRunOne(t, "DeformConv", 22, nil, x(), w(), off, f32([]int64{1}, 1), mask),
		[]int64{1, 1, 2, 2}, []float32{1 + 1.5, 1 + 1, 1 + 3.5, 1 + 2}, 1e-6)
	expectError(t, "offset shape", "DeformConv", 22, nil, x(), w(), f32([]int64{1, 2, 1, 1}, 0, 0))
}

func TestRoiAlign(t *testing.T) {
	// A 4×4 map x[i][j] = i*4+j; one roi covering it, 1×1 output, 2×2 samples: the mean of
	// the samples at (1, 1), (1, 3), (3, 1), (3, 3) clamped to the map edge.
	v := make([]float32, 16)
	for i := range v {
		v[i] = float32(i)
	}
	x := func() *kernel.Tensor { return f32([]int64{1, 1, 4, 4}, v...) }
	rois := func() *kernel.Tensor { return f32([]int64{1, 4}, 0, 0, 4, 4) }
	attrs := []*ir.Attr{ir.IntAttr("sampling_ratio", 2), ir.StringAttr("coordinate_transformation_mode", "output_half_pixel")}
	// Samples at 1 and 3 along each axis: values 5, 7, 13, 15.
	checkF32(t, kerneltest.MustRunOne(t, "RoiAlign", 16, attrs, x(), rois(), i64([]int64{1}, 0)), []int64{1, 1, 1, 1}, []float32{10}, 1e-5)
	// Opset 10 has no mode attribute and behaves as output_half_pixel.
	checkF32(t, kerneltest.MustRunOne(t, "RoiAlign", 10, []*ir.Attr{ir.IntAttr("sampling_ratio", 2)}, x(), rois(), i64([]int64{1}, 0)),
		[]int64{1, 1, 1, 1}, []float32{10}, 1e-5)
	// half_pixel shifts the samples by −0.5: 0.5 and 2.5 along each axis.
	checkF32(t, kerneltest.MustRunOne(t, "RoiAlign", 16, []*ir.Attr{ir.IntAttr("sampling_ratio", 2)}, x(), rois(), i64([]int64{1}, 0)),
		[]int64{1, 1, 1, 1}, []float32{7.5}, 1e-5)
	expectError(t, "batch index", "RoiAlign", 16, nil, x(), rois(), i64([]int64{1}, 1))
}

func TestNonMaxSuppression(t *testing.T) {
	// Three boxes: 0 and 1 overlap heavily, 2 is apart. Scores favour 1.
	boxes := func() *kernel.Tensor {
		return f32([]int64{1, 3, 4}, 0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 10, 1, 11)
	}
	scores := func() *kernel.Tensor { return f32([]int64{1, 1, 3}, 0.8, 0.9, 0.3) }
	run := func(maxOut int64, iou, score float32) []int64 {
		var st *kernel.Tensor
		if score >= 0 {
			st = f32([]int64{1}, score)
		}
		return kerneltest.MustRunOne(t, "NonMaxSuppression", 11, nil, boxes(), scores(), i64([]int64{1}, maxOut), f32([]int64{1}, iou), st).Int64s()
	}
	if got := run(3, 0.5, -1); !reflect.DeepEqual(got, []int64{0, 0, 1, 0, 0, 2}) {
		t.Fatalf("got %v", got)
	}
	if got := run(1, 0.5, -1); !reflect.DeepEqual(got, []int64{0, 0, 1}) {
		t.Fatalf("limited: got %v", got)
	}
	if got := run(3, 0.95, -1); !reflect.DeepEqual(got, []int64{0, 0, 1, 0, 0, 0, 0, 0, 2}) {
		t.Fatalf("high iou threshold: got %v", got)
	}
	if got := run(3, 0.5, 0.5); !reflect.DeepEqual(got, []int64{0, 0, 1}) {
		t.Fatalf("score threshold: got %v", got)
	}
	// No max_output_boxes_per_class: nothing selected, shape [0, 3].
	out := kerneltest.MustRunOne(t, "NonMaxSuppression", 11, nil, boxes(), scores())
	if !kernel.SameShape(out.Shape, []int64{0, 3}) {
		t.Fatalf("shape %v, want [0 3]", out.Shape)
	}
}

func TestMaxUnpool(t *testing.T) {
	attrs := []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)}
	x := func() *kernel.Tensor { return f32([]int64{1, 1, 1, 2}, 5, 6) }
	idx := func() *kernel.Tensor { return i64([]int64{1, 1, 1, 2}, 1, 6) }
	checkF32(t, kerneltest.MustRunOne(t, "MaxUnpool", 22, attrs, x(), idx()), []int64{1, 1, 2, 4}, []float32{0, 5, 0, 0, 0, 0, 6, 0}, 0)
	// A larger output_shape keeps the unpooled block in the top-left corner.
	checkF32(t, kerneltest.MustRunOne(t, "MaxUnpool", 22, attrs, x(), idx(), i64([]int64{4}, 1, 1, 3, 5)), []int64{1, 1, 3, 5},
		[]float32{0, 5, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0}, 0)
	expectError(t, "outside", "MaxUnpool", 22, attrs, x(), i64([]int64{1, 1, 1, 2}, 1, 8))
}

func TestDet(t *testing.T) {
	checkF32(t, kerneltest.MustRunOne(t, "Det", 22, nil, f32([]int64{2, 2}, 1, 2, 3, 4)), []int64{}, []float32{-2}, 1e-6)
	// A batch: a permutation (needs pivoting, det −1), a singular matrix, a 3×3.
	out := kerneltest.MustRunOne(t, "Det", 22, nil, f32([]int64{3, 3, 3},
		0, 1, 0, 1, 0, 0, 0, 0, 1,
		1, 2, 3, 2, 4, 6, 0, 0, 1,
		2, 0, 0, 0, 3, 0, 1, 1, 4))
	checkF32(t, out, []int64{3}, []float32{-1, 0, 24}, 1e-5)
	expectError(t, "square", "Det", 22, nil, f32([]int64{2, 3}, 1, 2, 3, 4, 5, 6))
}

func TestMeanVarianceNormalization(t *testing.T) {
	// Over axis 1 only: each row becomes zero-mean, unit-variance.
	out := kerneltest.MustRunOne(t, "MeanVarianceNormalization", 13, []*ir.Attr{ir.IntsAttr("axes", 1)}, f32([]int64{2, 2}, 1, 3, 10, 30))
	checkF32(t, out, []int64{2, 2}, []float32{-1, 1, -1, 1}, 1e-6)
	// Default axes [0, 2, 3]: statistics per channel.
	out = kerneltest.MustRunOne(t, "MeanVarianceNormalization", 13, nil, f32([]int64{1, 2, 1, 2}, 0, 2, 5, 5))
	checkF32(t, out, []int64{1, 2, 1, 2}, []float32{-1, 1, 0, 0}, 1e-6)
}
