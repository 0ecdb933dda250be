package kernel

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestFloat64sOf(t *testing.T) {
	tests := []struct {
		name string
		in   *Tensor
		want []float64
	}{
		{"float", &Tensor{DType: ir.Float, Data: []float32{1.5, -2, 0}}, []float64{1.5, -2, 0}},
		{"double", &Tensor{DType: ir.Double, Data: []float64{0.1, -3}}, []float64{0.1, -3}},
		{"float16", &Tensor{DType: ir.Float16, Data: []uint16{0x3c00, 0xc000, 0x3800}}, []float64{1, -2, 0.5}},
		{"bfloat16", &Tensor{DType: ir.BFloat16, Data: []uint16{0x3f80, 0xc040}}, []float64{1, -3}},
		{"uint16", &Tensor{DType: ir.Uint16, Data: []uint16{0x3c00, 65535}}, []float64{0x3c00, 65535}},
		{"float8e4m3fn", &Tensor{DType: ir.Float8E4M3FN, Data: []uint8{0x38, 0xc0}}, []float64{1, -2}},
		{"float8e8m0", &Tensor{DType: ir.Float8E8M0, Data: []uint8{127, 128}}, []float64{1, 2}},
		{"int4 sign-extends", &Tensor{DType: ir.Int4, Data: []uint8{0x7, 0xf, 0x8}}, []float64{7, -1, -8}},
		{"uint4", &Tensor{DType: ir.Uint4, Data: []uint8{0xf}}, []float64{15}},
		{"int2 sign-extends", &Tensor{DType: ir.Int2, Data: []uint8{0x1, 0x3}}, []float64{1, -1}},
		{"uint8", &Tensor{DType: ir.Uint8, Data: []uint8{0, 255}}, []float64{0, 255}},
		{"int8", &Tensor{DType: ir.Int8, Data: []int8{-128, 127}}, []float64{-128, 127}},
		{"int16", &Tensor{DType: ir.Int16, Data: []int16{-300}}, []float64{-300}},
		{"int32", &Tensor{DType: ir.Int32, Data: []int32{-7, 1 << 30}}, []float64{-7, 1 << 30}},
		{"int64", &Tensor{DType: ir.Int64, Data: []int64{-1 << 40}}, []float64{-1 << 40}},
		{"uint32", &Tensor{DType: ir.Uint32, Data: []uint32{1 << 31}}, []float64{1 << 31}},
		{"uint64", &Tensor{DType: ir.Uint64, Data: []uint64{1 << 63}}, []float64{1 << 63}},
		{"bool", &Tensor{DType: ir.Bool, Data: []bool{true, false}}, []float64{1, 0}},
		{"empty", &Tensor{DType: ir.Float, Data: []float32{}}, []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Float64sOf(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Float64sOf = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFloat64sOfReturnsACopy(t *testing.T) {
	src := []float64{1, 2}
	got, err := Float64sOf(&Tensor{DType: ir.Double, Data: src})
	if err != nil {
		t.Fatal(err)
	}
	got[0] = 99
	if src[0] != 1 {
		t.Errorf("writing the result changed the tensor: %v", src)
	}
}

func TestFloat64sOfRejects(t *testing.T) {
	for _, in := range []*Tensor{
		{DType: ir.String, Data: []string{"a"}},
		{DType: ir.Complex64, Data: []complex64{1}},
	} {
		if got, err := Float64sOf(in); err == nil {
			t.Errorf("Float64sOf(%v) = %v, want an error", in, got)
		}
	}
}

func TestFloatsOf(t *testing.T) {
	tests := []struct {
		in      *Tensor
		want    []float64
		wantErr string
	}{
		{in: &Tensor{DType: ir.Float, Data: []float32{0.25}}, want: []float64{0.25}},
		{in: &Tensor{DType: ir.Double, Data: []float64{-1}}, want: []float64{-1}},
		{in: &Tensor{DType: ir.Float16, Data: []uint16{0x3c00}}, want: []float64{1}},
		{in: &Tensor{DType: ir.BFloat16, Data: []uint16{0x3f80}}, want: []float64{1}},
		{in: &Tensor{DType: ir.Int64, Data: []int64{1}}, wantErr: "not a float type"},
		{in: &Tensor{DType: ir.Uint16, Data: []uint16{1}}, wantErr: "not a float type"},
		{in: &Tensor{DType: ir.Float8E4M3FN, Data: []uint8{0x38}}, wantErr: "not a float type"},
	}
	for _, tc := range tests {
		got, err := FloatsOf(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("FloatsOf(%v) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("FloatsOf(%v) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestInt64sOf(t *testing.T) {
	tests := []struct {
		in   *Tensor
		want []int64
		ok   bool
	}{
		{&Tensor{DType: ir.Int64, Data: []int64{-1, 1 << 40}}, []int64{-1, 1 << 40}, true},
		{&Tensor{DType: ir.Int32, Data: []int32{-5, 7}}, []int64{-5, 7}, true},
		{&Tensor{DType: ir.Int16, Data: []int16{-2}}, []int64{-2}, true},
		{&Tensor{DType: ir.Int8, Data: []int8{-128}}, []int64{-128}, true},
		{&Tensor{DType: ir.Uint8, Data: []uint8{255}}, []int64{255}, true},
		{&Tensor{DType: ir.Uint16, Data: []uint16{65535}}, []int64{65535}, true},
		{&Tensor{DType: ir.Uint32, Data: []uint32{1 << 31}}, []int64{1 << 31}, true},
		{&Tensor{DType: ir.Uint64, Data: []uint64{3}}, []int64{3}, true},
		{&Tensor{DType: ir.Float16, Data: []uint16{0x3c00}}, nil, false},
		{&Tensor{DType: ir.Float8E5M2, Data: []uint8{1}}, nil, false},
		{&Tensor{DType: ir.Float, Data: []float32{1}}, nil, false},
		{&Tensor{DType: ir.Bool, Data: []bool{true}}, nil, false},
	}
	for _, tc := range tests {
		got, err := Int64sOf(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("Int64sOf(%v) error = %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Int64sOf(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	src := []int64{4}
	got, _ := Int64sOf(&Tensor{DType: ir.Int64, Data: src})
	got[0] = 0
	if src[0] != 4 {
		t.Error("Int64sOf shares the int64 tensor's data")
	}
}

func TestStoreFloat64s(t *testing.T) {
	vals := []float64{1.5, -2.7, math.NaN(), 300}
	tests := []struct {
		dt   ir.DataType
		want any
	}{
		{ir.Double, []float64{1.5, -2.7, math.NaN(), 300}},
		{ir.Float, []float32{1.5, -2.7, float32(math.NaN()), 300}},
		{ir.Int64, []int64{1, -2, 0, 300}},
		{ir.Int32, []int32{1, -2, 0, 300}},
		{ir.Int16, []int16{1, -2, 0, 300}},
		{ir.Int8, []int8{1, -2, 0, 44}}, // 300 wraps
		{ir.Uint8, []uint8{1, 254, 0, 44}},
		{ir.Uint16, []uint16{1, 65534, 0, 300}},
		{ir.Uint32, []uint32{1, 1<<32 - 2, 0, 300}},
		{ir.Int4, []uint8{1, 0xe, 0, 0xc}},
		{ir.Uint2, []uint8{1, 2, 0, 0}},
		{ir.Bool, []bool{true, true, true, true}},
	}
	for _, tc := range tests {
		dst := New(tc.dt, int64(len(vals)))
		if err := StoreFloat64s(dst, vals); err != nil {
			t.Fatalf("%s: %v", tc.dt, err)
		}
		if got := dst.Data; !sameBits(got, tc.want) {
			t.Errorf("%s: stored %v, want %v", tc.dt, got, tc.want)
		}
	}
}

// sameBits compares slices element by element, with NaN equal to NaN.
func sameBits(a, b any) bool {
	switch x := a.(type) {
	case []float64:
		y := b.([]float64)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] && !(math.IsNaN(x[i]) && math.IsNaN(y[i])) {
				return false
			}
		}
		return true
	case []float32:
		y := b.([]float32)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] && !(x[i] != x[i] && y[i] != y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestStoreFloat64sNarrowFloats(t *testing.T) {
	// Half and float8 types round through float32, the way kernels that compute in float64
	// have always stored them.
	vals := []float64{1, -2, 0.1, 1e6}
	for _, dt := range []ir.DataType{ir.Float16, ir.BFloat16, ir.Float8E4M3FN, ir.Float8E5M2, ir.Float8E8M0} {
		dst := New(dt, int64(len(vals)))
		if err := StoreFloat64s(dst, vals); err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
		for i, v := range vals {
			var want any
			switch dt {
			case ir.Float16:
				want = Float32ToFloat16(float32(v))
			case ir.BFloat16:
				want = Float32ToBFloat16(float32(v))
			case ir.Float8E8M0:
				want = Float32ToFloat8E8M0(float32(v), true, E8M0Up)
			default:
				want = Float32ToFloat8(dt, float32(v), true)
			}
			var got any
			switch d := dst.Data.(type) {
			case []uint16:
				got = d[i]
			case []uint8:
				got = d[i]
			}
			if got != want {
				t.Errorf("%s: element %d (%g) stored as %#x, want %#x", dt, i, v, got, want)
			}
		}
	}
	// Round trip through the reader for the exactly representable values.
	back, err := Float64sOf(&Tensor{DType: ir.Float16, Data: []uint16{Float32ToFloat16(-2)}})
	if err != nil || back[0] != -2 {
		t.Errorf("float16 round trip of -2 = %v, %v", back, err)
	}
}

func TestStoreFloat64sUint64(t *testing.T) {
	dst := New(ir.Uint64, 3)
	if err := StoreFloat64s(dst, []float64{3.9, 1 << 63, 1 << 64 / 4 * 3}); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{3, 1 << 63, 3 << 62}; !reflect.DeepEqual(dst.Data, want) {
		t.Errorf("uint64 stored %v, want %v", dst.Data, want)
	}
}

func TestStoreFloat64sRejectsStrings(t *testing.T) {
	if err := StoreFloat64s(New(ir.String, 1), []float64{1}); err == nil {
		t.Error("storing into a string tensor succeeded")
	}
}

func TestFromFloat64s(t *testing.T) {
	var ctx *Context // nil context allocates fresh memory
	out, err := FromFloat64s(ctx, ir.Float, []int64{2, 1}, []float64{0.5, 2})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Shape, []int64{2, 1}) || !reflect.DeepEqual(out.Data, []float32{0.5, 2}) {
		t.Errorf("FromFloat64s = %v %v", out.Shape, out.Data)
	}
	if _, err := FromFloat64s(ctx, ir.String, []int64{1}, []float64{1}); err == nil {
		t.Error("FromFloat64s into strings succeeded")
	}
}

func TestTruncToInt64(t *testing.T) {
	tests := []struct {
		in   float64
		want int64
	}{
		{2.9, 2}, {-2.9, -2}, {0, 0}, {math.NaN(), 0},
		{1e19, math.MaxInt64}, {-1e19, math.MinInt64},
		{math.Inf(1), math.MaxInt64}, {math.Inf(-1), math.MinInt64},
	}
	for _, tc := range tests {
		if got := TruncToInt64(tc.in); got != tc.want {
			t.Errorf("TruncToInt64(%g) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeAxis(t *testing.T) {
	tests := []struct {
		axis int64
		rank int
		want int
		ok   bool
	}{
		{0, 3, 0, true}, {2, 3, 2, true}, {-1, 3, 2, true}, {-3, 3, 0, true},
		{3, 3, 0, false}, {-4, 3, 0, false}, {0, 0, 0, false}, {-1, 0, 0, false},
		{1 << 40, 3, 0, false}, {-1 << 40, 3, 0, false},
	}
	for _, tc := range tests {
		got, err := NormalizeAxis(tc.axis, tc.rank)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("NormalizeAxis(%d, %d) = %d, %v; want %d ok=%v", tc.axis, tc.rank, got, err, tc.want, tc.ok)
		}
	}
}

func TestNormalizeAxes(t *testing.T) {
	tests := []struct {
		axes []int64
		rank int
		want []int
		ok   bool
	}{
		{[]int64{0, -1}, 3, []int{0, 2}, true},
		{[]int64{}, 2, []int{}, true},
		{[]int64{1, -2}, 3, nil, false}, // 1 and -2 are the same axis
		{[]int64{5}, 3, nil, false},
	}
	for _, tc := range tests {
		got, err := NormalizeAxes(tc.axes, tc.rank)
		if (err == nil) != tc.ok || (tc.ok && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("NormalizeAxes(%v, %d) = %v, %v; want %v ok=%v", tc.axes, tc.rank, got, err, tc.want, tc.ok)
		}
	}
}

func TestInput(t *testing.T) {
	a := &Tensor{DType: ir.Float, Data: []float32{1}}
	none := &Tensor{Kind: NoneValue}
	in := []*Tensor{a, nil, none}
	tests := []struct {
		i    int
		want *Tensor
	}{{0, a}, {1, nil}, {2, nil}, {3, nil}, {-1, nil}}
	for _, tc := range tests {
		if got := Input(in, tc.i); got != tc.want {
			t.Errorf("Input(in, %d) = %v, want %v", tc.i, got, tc.want)
		}
	}
}

func TestShapeSize(t *testing.T) {
	tests := []struct {
		shape []int64
		want  int
	}{{nil, 1}, {[]int64{3}, 3}, {[]int64{2, 3, 4}, 24}, {[]int64{2, 0}, 0}}
	for _, tc := range tests {
		if got := ShapeSize(tc.shape); got != tc.want {
			t.Errorf("ShapeSize(%v) = %d, want %d", tc.shape, got, tc.want)
		}
	}
}

func TestSingle(t *testing.T) {
	a := New(ir.Float, 1)
	if got, err := Single(a, nil); err != nil || len(got) != 1 || got[0] != a {
		t.Errorf("Single(a, nil) = %v, %v", got, err)
	}
	want := errors.New("boom")
	if got, err := Single(a, want); err != want || got != nil {
		t.Errorf("Single(a, err) = %v, %v", got, err)
	}
}
