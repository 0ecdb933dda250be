package quant

import (
	"math"
	"reflect"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/internal/kerneltest"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// runNode builds op at opset with attrs and runs it; nil inputs are omitted.
func runNode(t *testing.T, op string, opset int64, attrs []*ir.Attr, inputs ...*kernel.Tensor) []*kernel.Tensor {
	t.Helper()
	out, err := tryNode(op, opset, attrs, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tryNode(op string, opset int64, attrs []*ir.Attr, inputs ...*kernel.Tensor) ([]*kernel.Tensor, error) {
	return kerneltest.Run(op, opset, attrs, 3, inputs...)
}

func tensor(dt ir.DataType, shape []int64, data any) *kernel.Tensor {
	return &kernel.Tensor{DType: dt, Shape: shape, Data: data}
}

func scalarF(v float32) *kernel.Tensor { return kernel.FromFloat32([]int64{}, []float32{v}) }

func TestQuantizeLinear(t *testing.T) {
	ties := kernel.FromFloat32([]int64{6}, []float32{0.5, 1.5, 2.5, -0.5, -1.5, -2.5})
	tests := []struct {
		name  string
		opset int64
		attrs []*ir.Attr
		in    []*kernel.Tensor
		want  any
	}{
		{"ties to even int8", 13, nil, []*kernel.Tensor{ties, scalarF(1), tensor(ir.Int8, []int64{}, []int8{0})},
			[]int8{0, 2, 2, 0, -2, -2}},
		// Round x/scale first, then add the zero point: 2.5 -> 2, +1 = 3 (not round(3.5) = 4).
		{"round before zero point", 13, nil, []*kernel.Tensor{ties, scalarF(1), tensor(ir.Uint8, []int64{}, []uint8{1})},
			[]uint8{1, 3, 3, 1, 0, 0}},
		{"saturate int8", 13, nil, []*kernel.Tensor{kernel.FromFloat32([]int64{3}, []float32{300, -300, float32(math.Inf(1))}), scalarF(1), tensor(ir.Int8, []int64{}, []int8{0})},
			[]int8{127, -128, 127}},
		{"default uint8 without zero point", 10, nil, []*kernel.Tensor{kernel.FromFloat32([]int64{3}, []float32{-4, 4, 600}), scalarF(2)},
			[]uint8{0, 2, 255}},
		{"per axis", 13, []*ir.Attr{ir.IntAttr("axis", 0)}, []*kernel.Tensor{kernel.FromFloat32([]int64{2, 2}, []float32{2, 4, 2, 4}),
			kernel.FromFloat32([]int64{2}, []float32{1, 2}), tensor(ir.Uint8, []int64{2}, []uint8{10, 20})},
			[]uint8{12, 14, 21, 22}},
		{"blocked", 21, []*ir.Attr{ir.IntAttr("axis", 1), ir.IntAttr("block_size", 2)}, []*kernel.Tensor{kernel.FromFloat32([]int64{1, 4}, []float32{2, 4, 2, 4}),
			kernel.FromFloat32([]int64{1, 2}, []float32{1, 2}), tensor(ir.Int8, []int64{1, 2}, []int8{0, -1})},
			[]int8{2, 4, 0, 1}},
		{"int16 output_dtype", 21, []*ir.Attr{ir.IntAttr("output_dtype", int64(ir.Int16))}, []*kernel.Tensor{kernel.FromFloat32([]int64{2}, []float32{70000, -3}), scalarF(1)},
			[]int16{32767, -3}},
		// int4 values are stored wrapped in the low nibble: -8 is 0x8.
		{"int4 saturate", 21, nil, []*kernel.Tensor{kernel.FromFloat32([]int64{3}, []float32{-9, 7.6, -3}), scalarF(1), tensor(ir.Int4, []int64{}, []uint8{0})},
			[]uint8{0x8, 0x7, 0xd}},
		{"uint2", 25, nil, []*kernel.Tensor{kernel.FromFloat32([]int64{3}, []float32{-1, 2, 9}), scalarF(1), tensor(ir.Uint2, []int64{}, []uint8{0})},
			[]uint8{0, 2, 3}},
		// float8 e4m3fn: 1000 saturates to 448 (0x7e); without saturate it is NaN (0x7f).
		{"e4m3fn saturate", 19, nil, []*kernel.Tensor{kernel.FromFloat32([]int64{3}, []float32{1000, 1, -0.5}), scalarF(1), tensor(ir.Float8E4M3FN, []int64{}, []uint8{0})},
			[]uint8{0x7e, 0x38, 0xb0}},
		{"e4m3fn no saturate", 19, []*ir.Attr{ir.IntAttr("saturate", 0)}, []*kernel.Tensor{kernel.FromFloat32([]int64{1}, []float32{1000}), scalarF(1), tensor(ir.Float8E4M3FN, []int64{}, []uint8{0})},
			[]uint8{0x7f}},
		{"int32 input", 13, nil, []*kernel.Tensor{tensor(ir.Int32, []int64{2}, []int32{7, -7}), scalarF(2), tensor(ir.Int8, []int64{}, []int8{0})},
			[]int8{4, -4}},
		{"empty input", 13, nil, []*kernel.Tensor{kernel.FromFloat32([]int64{0, 3}, []float32{}), scalarF(2), tensor(ir.Int8, []int64{}, []int8{0})},
			[]int8{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runNode(t, "QuantizeLinear", tc.opset, tc.attrs, tc.in...)[0]
			if !reflect.DeepEqual(got.Data, tc.want) {
				t.Errorf("got %v, want %v", got.Data, tc.want)
			}
			if !reflect.DeepEqual(got.Shape, tc.in[0].Shape) {
				t.Errorf("shape %v, want %v", got.Shape, tc.in[0].Shape)
			}
		})
	}
}

func TestQuantizeLinearFloat16Precision(t *testing.T) {
	// float16 input and scale: the quotient is computed at the scale's precision and then
	// rounded half to even.
	h := func(v float32) uint16 { return kernel.Float32ToFloat16(v) }
	x := tensor(ir.Float16, []int64{2}, []uint16{h(10), h(-10)})
	s := tensor(ir.Float16, []int64{}, []uint16{h(4)})
	got := runNode(t, "QuantizeLinear", 21, nil, x, s, tensor(ir.Int8, []int64{}, []int8{0}))[0]
	// 10/4 = 2.5 ties to 2.
	if want := []int8{2, -2}; !reflect.DeepEqual(got.Data, want) {
		t.Errorf("got %v, want %v", got.Data, want)
	}
}

func TestQuantizeLinearErrors(t *testing.T) {
	x := kernel.FromFloat32([]int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	for name, in := range map[string][]*kernel.Tensor{
		"per-axis scale of wrong length": {x, kernel.FromFloat32([]int64{2}, []float32{1, 1})},
		"zero point shape":               {x, scalarF(1), tensor(ir.Uint8, []int64{2}, []uint8{1, 2})},
		"missing scale":                  {x},
	} {
		if _, err := tryNode("QuantizeLinear", 13, nil, in...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := tryNode("QuantizeLinear", 21, []*ir.Attr{ir.IntAttr("output_dtype", int64(ir.Int8))}, x, scalarF(1), tensor(ir.Uint8, []int64{}, []uint8{0})); err == nil {
		t.Error("output_dtype disagreeing with zero point: no error")
	}
}

func TestDequantizeLinear(t *testing.T) {
	tests := []struct {
		name  string
		attrs []*ir.Attr
		in    []*kernel.Tensor
		want  []float32
	}{
		{"uint8 per tensor", nil, []*kernel.Tensor{tensor(ir.Uint8, []int64{3}, []uint8{0, 128, 255}), scalarF(0.5), tensor(ir.Uint8, []int64{}, []uint8{128})},
			[]float32{-64, 0, 63.5}},
		{"int8 per axis", []*ir.Attr{ir.IntAttr("axis", 0)}, []*kernel.Tensor{tensor(ir.Int8, []int64{2, 2}, []int8{-128, 127, 1, 3}),
			kernel.FromFloat32([]int64{2}, []float32{1, 2}), tensor(ir.Int8, []int64{2}, []int8{0, 1})},
			[]float32{-128, 127, 0, 4}},
		{"int32 without zero point", nil, []*kernel.Tensor{tensor(ir.Int32, []int64{2}, []int32{math.MaxInt32, -5}), scalarF(1)},
			[]float32{math.MaxInt32, -5}},
		{"int4 sign extension", nil, []*kernel.Tensor{tensor(ir.Int4, []int64{3}, []uint8{0x8, 0x7, 0xf}), scalarF(2), tensor(ir.Int4, []int64{}, []uint8{0x1})},
			[]float32{-18, 12, -4}},
		{"blocked", []*ir.Attr{ir.IntAttr("axis", 1), ir.IntAttr("block_size", 2)}, []*kernel.Tensor{tensor(ir.Uint8, []int64{1, 3}, []uint8{1, 2, 3}),
			kernel.FromFloat32([]int64{1, 2}, []float32{10, 100})},
			[]float32{10, 20, 300}},
		{"e5m2", nil, []*kernel.Tensor{tensor(ir.Float8E5M2, []int64{2}, []uint8{0x3c, 0xc0}), scalarF(3)},
			[]float32{3, -6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runNode(t, "DequantizeLinear", 21, tc.attrs, tc.in...)[0]
			if got.DType != ir.Float || !reflect.DeepEqual(got.Data, tc.want) {
				t.Errorf("got %s %v, want %v", got.DType, got.Data, tc.want)
			}
		})
	}
	// float16 scale gives a float16 output unless output_dtype says otherwise.
	x := tensor(ir.Uint8, []int64{1}, []uint8{3})
	s := tensor(ir.Float16, []int64{}, []uint16{kernel.Float32ToFloat16(0.5)})
	got := runNode(t, "DequantizeLinear", 21, nil, x, s)[0]
	if got.DType != ir.Float16 || kernel.Float16ToFloat32(got.Data.([]uint16)[0]) != 1.5 {
		t.Errorf("float16: got %s %v", got.DType, got.Data)
	}
	got = runNode(t, "DequantizeLinear", 23, []*ir.Attr{ir.IntAttr("output_dtype", int64(ir.Float))}, x, s)[0]
	if got.DType != ir.Float || got.Float32s()[0] != 1.5 {
		t.Errorf("output_dtype float: got %s %v", got.DType, got.Data)
	}
}

func TestDynamicQuantizeLinear(t *testing.T) {
	// Range [-1, 4] widened to include 0: scale 5/255, zero point 51.
	x := kernel.FromFloat32([]int64{4}, []float32{0, 2, -1, 4})
	out := runNode(t, "DynamicQuantizeLinear", 11, nil, x)
	if s := out[1].Float32s()[0]; s != float32(5)/255 {
		t.Errorf("scale %v, want %v", s, float32(5)/255)
	}
	if zp := out[2].Data.([]uint8)[0]; zp != 51 {
		t.Errorf("zero point %d, want 51", zp)
	}
	if want := []uint8{51, 153, 0, 255}; !reflect.DeepEqual(out[0].Data, want) {
		t.Errorf("y %v, want %v", out[0].Data, want)
	}
	// All zeros: scale 0, zero point 0, no division by zero.
	out = runNode(t, "DynamicQuantizeLinear", 11, nil, kernel.FromFloat32([]int64{2}, []float32{0, 0}))
	if out[1].Float32s()[0] != 0 || out[2].Data.([]uint8)[0] != 0 || !reflect.DeepEqual(out[0].Data, []uint8{0, 0}) {
		t.Errorf("zeros: got %v %v %v", out[0].Data, out[1].Data, out[2].Data)
	}
}

func TestMatMulInteger(t *testing.T) {
	// A uint8 [2,2] with per-row zero points (1, 2); B int8 [2,2] with per-column (0, -1).
	A := tensor(ir.Uint8, []int64{2, 2}, []uint8{1, 3, 4, 2})
	B := tensor(ir.Int8, []int64{2, 2}, []int8{1, -1, 2, 0})
	// A - zp = [[0 2] [2 0]]; B - zp = [[1 0] [2 1]].
	out := runNode(t, "MatMulInteger", 10, nil, A, B, tensor(ir.Uint8, []int64{2}, []uint8{1, 2}), tensor(ir.Int8, []int64{2}, []int8{0, -1}))[0]
	if want := []int32{4, 2, 2, 0}; !reflect.DeepEqual(out.Data, want) || !reflect.DeepEqual(out.Shape, []int64{2, 2}) {
		t.Errorf("got %v %v, want %v", out.Shape, out.Data, want)
	}
	// Batched A [2,1,2] against shared B [2,1]; scalar zero points; no zero points at all.
	A3 := tensor(ir.Int8, []int64{2, 1, 2}, []int8{1, 2, -3, 4})
	B2 := tensor(ir.Int8, []int64{2, 1}, []int8{5, 6})
	out = runNode(t, "MatMulInteger", 10, nil, A3, B2)[0]
	if want := []int32{17, 9}; !reflect.DeepEqual(out.Data, want) || !reflect.DeepEqual(out.Shape, []int64{2, 1, 1}) {
		t.Errorf("batched: got %v %v, want %v", out.Shape, out.Data, want)
	}
	// Extremes accumulate in int32 without overflow: 255*255*K.
	K := 64
	a := make([]uint8, K)
	b := make([]uint8, K)
	for i := range a {
		a[i], b[i] = 255, 255
	}
	out = runNode(t, "MatMulInteger", 10, nil, tensor(ir.Uint8, []int64{1, int64(K)}, a), tensor(ir.Uint8, []int64{int64(K), 1}, b))[0]
	if got := out.Data.([]int32)[0]; got != int32(255*255*K) {
		t.Errorf("extreme: got %d, want %d", got, 255*255*K)
	}
}

func TestQLinearMatMul(t *testing.T) {
	// a = [[2 4]] (zp 0, scale 0.5) -> [[1 2]]; b = [[3] [5]] (zp 1, scale 1) -> [[2] [4]].
	// Real product 1*2 + 2*4 = 10; y_scale 4, y_zp 1: round(2.5) + 1 ... = round(2.5 + 1) = 4.
	a := tensor(ir.Uint8, []int64{1, 2}, []uint8{2, 4})
	b := tensor(ir.Uint8, []int64{2, 1}, []uint8{3, 5})
	z := func(v uint8) *kernel.Tensor { return tensor(ir.Uint8, []int64{}, []uint8{v}) }
	out := runNode(t, "QLinearMatMul", 21, nil, a, scalarF(0.5), z(0), b, scalarF(1), z(1), scalarF(4), z(1))[0]
	if want := []uint8{4}; !reflect.DeepEqual(out.Data, want) {
		t.Errorf("got %v, want %v", out.Data, want)
	}
	// Saturation at the output.
	out = runNode(t, "QLinearMatMul", 10, nil, a, scalarF(100), z(0), b, scalarF(100), z(0), scalarF(1), z(0))[0]
	if want := []uint8{255}; !reflect.DeepEqual(out.Data, want) {
		t.Errorf("saturation: got %v, want %v", out.Data, want)
	}
}

// directConv is an independent oracle for the im2col path: a direct 2-D convolution of
// centered int32 values.
func directConv(x []int32, N, C, H, W int, w []int32, M, KH, KW, stride, pad, group int) ([]int32, int, int) {
	OH := (H+2*pad-KH)/stride + 1
	OW := (W+2*pad-KW)/stride + 1
	cg, mg := C/group, M/group
	out := make([]int32, N*M*OH*OW)
	for n := 0; n < N; n++ {
		for m := 0; m < M; m++ {
			g := m / mg
			for oh := 0; oh < OH; oh++ {
				for ow := 0; ow < OW; ow++ {
					var s int32
					for c := 0; c < cg; c++ {
						for kh := 0; kh < KH; kh++ {
							for kw := 0; kw < KW; kw++ {
								ih, iw := oh*stride-pad+kh, ow*stride-pad+kw
								if ih < 0 || ih >= H || iw < 0 || iw >= W {
									continue
								}
								s += x[((n*C+g*cg+c)*H+ih)*W+iw] * w[((m*cg+c)*KH+kh)*KW+kw]
							}
						}
					}
					out[((n*M+m)*OH+oh)*OW+ow] = s
				}
			}
		}
	}
	return out, OH, OW
}

func TestConvInteger(t *testing.T) {
	// Hand case: x 1x1x2x2 = [1 2; 3 4] (zp 1), w 1x1x1x1 = [3] (zp 1): y = 2*(x-1).
	x := tensor(ir.Uint8, []int64{1, 1, 2, 2}, []uint8{1, 2, 3, 4})
	w := tensor(ir.Uint8, []int64{1, 1, 1, 1}, []uint8{3})
	out := runNode(t, "ConvInteger", 10, nil, x, w, tensor(ir.Uint8, []int64{}, []uint8{1}), tensor(ir.Uint8, []int64{}, []uint8{1}))[0]
	if want := []int32{0, 2, 4, 6}; !reflect.DeepEqual(out.Data, want) {
		t.Errorf("hand case: got %v, want %v", out.Data, want)
	}

	// Padding, stride and groups against the direct oracle; padded cells equal the zero
	// point, so they contribute nothing.
	const N, C, H, W, M, K, group = 2, 4, 5, 4, 6, 3, 2
	xd := make([]uint8, N*C*H*W)
	for i := range xd {
		xd[i] = uint8(i*37 + 11)
	}
	wd := make([]int8, M*(C/group)*K*K)
	for i := range wd {
		wd[i] = int8(i*53 - 7)
	}
	xzp, wzp := uint8(128), []int8{1, -2, 3, 0, 5, -6}
	for _, stride := range []int{1, 2} {
		attrs := []*ir.Attr{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", int64(stride), int64(stride)), ir.IntAttr("group", group)}
		out := runNode(t, "ConvInteger", 10, attrs,
			tensor(ir.Uint8, []int64{N, C, H, W}, xd), tensor(ir.Int8, []int64{M, C / group, K, K}, wd),
			tensor(ir.Uint8, []int64{}, []uint8{xzp}), tensor(ir.Int8, []int64{M}, wzp))[0]
		xc := make([]int32, len(xd))
		for i, v := range xd {
			xc[i] = int32(v) - int32(xzp)
		}
		wc := make([]int32, len(wd))
		per := len(wd) / M
		for i, v := range wd {
			wc[i] = int32(v) - int32(wzp[i/per])
		}
		want, OH, OW := directConv(xc, N, C, H, W, wc, M, K, K, stride, 1, group)
		if !reflect.DeepEqual(out.Shape, []int64{N, M, int64(OH), int64(OW)}) {
			t.Fatalf("stride %d: shape %v", stride, out.Shape)
		}
		if !reflect.DeepEqual(out.Data, want) {
			t.Errorf("stride %d: got %v, want %v", stride, out.Data, want)
		}
	}
}

func TestConvIntegerAutoPad(t *testing.T) {
	// SAME_UPPER with a 2x2 kernel on 3x3 pads one cell at the end: output stays 3x3 and
	// its last row/column sees only the real input.
	x := tensor(ir.Uint8, []int64{1, 1, 3, 3}, []uint8{1, 1, 1, 1, 1, 1, 1, 1, 1})
	w := tensor(ir.Uint8, []int64{1, 1, 2, 2}, []uint8{1, 1, 1, 1})
	out := runNode(t, "ConvInteger", 10, []*ir.Attr{ir.StringAttr("auto_pad", "SAME_UPPER")}, x, w)[0]
	if want := []int32{4, 4, 2, 4, 4, 2, 2, 2, 1}; !reflect.DeepEqual(out.Data, want) {
		t.Errorf("SAME_UPPER: got %v, want %v", out.Data, want)
	}
	out = runNode(t, "ConvInteger", 10, []*ir.Attr{ir.StringAttr("auto_pad", "SAME_LOWER")}, x, w)[0]
	if want := []int32{1, 2, 2, 2, 4, 4, 2, 4, 4}; !reflect.DeepEqual(out.Data, want) {
		t.Errorf("SAME_LOWER: got %v, want %v", out.Data, want)
	}
}

func TestQLinearConv(t *testing.T) {
	// Two output channels with per-channel weight scales and a bias.
	x := tensor(ir.Uint8, []int64{1, 1, 1, 2}, []uint8{12, 14}) // zp 10 -> 2, 4
	w := tensor(ir.Int8, []int64{2, 1, 1, 1}, []int8{3, -1})    // zp 0
	b := tensor(ir.Int32, []int64{2}, []int32{1, 0})
	z8 := func(v uint8) *kernel.Tensor { return tensor(ir.Uint8, []int64{}, []uint8{v}) }
	ws := kernel.FromFloat32([]int64{2}, []float32{1, 0.5})
	out := runNode(t, "QLinearConv", 10, nil, x, scalarF(1), z8(10), w, ws, tensor(ir.Int8, []int64{}, []int8{0}), scalarF(1), z8(100), b)[0]
	// ch0: acc = 3*2+1 = 7, 3*4+1 = 13 -> 107, 113; ch1: acc = -2, -4, * 0.5 -> -1, -2 -> 99, 98.
	if want := []uint8{107, 113, 99, 98}; !reflect.DeepEqual(out.Data, want) {
		t.Errorf("got %v, want %v", out.Data, want)
	}
}
