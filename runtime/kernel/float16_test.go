package kernel

import (
	"math"
	"math/rand"
	"sort"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestFloat16Table(t *testing.T) {
	tests := []struct {
		f    float32
		bits uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{0.5, 0x3800},
		{65504, 0x7bff}, // largest finite
		{65519, 0x7bff}, // just below the midpoint to Inf
		{65520, 0x7c00}, // midpoint: ties to even rounds up to Inf
		{1e10, 0x7c00},  // overflow
		{-1e10, 0xfc00}, // negative overflow
		{float32(math.Inf(1)), 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{0x1p-14, 0x0400},        // smallest normal
		{0x1p-24, 0x0001},        // smallest subnormal
		{0x1p-25, 0x0000},        // half the smallest subnormal: tie to even (0)
		{0x1.000002p-25, 0x0001}, // just above the tie
		{0x3p-25, 0x0002},        // 1.5 units: tie to even (2)
		{0x5p-25, 0x0002},        // 2.5 units: tie to even (2)
		{0x1p-30, 0x0000},        // underflow
		{0x1p-149, 0x0000},       // float32 subnormal
		{1 + 0x1p-11, 0x3c00},    // tie between 1 and 1+2^-10: even is 1
		{1 + 0x3p-11, 0x3c02},    // tie between 1+2^-10 and 1+2^-9: even is the latter
		{1 + 0x1p-11 + 0x1p-20, 0x3c01},
		{0x1.ffcp-15, 0x0400}, // largest subnormal range rounding up into the normals
	}
	for _, tc := range tests {
		if got := Float32ToFloat16(tc.f); got != tc.bits {
			t.Errorf("Float32ToFloat16(%g) = %#04x, want %#04x", tc.f, got, tc.bits)
		}
		back := Float16ToFloat32(tc.bits)
		want := Float16ToFloat32(Float32ToFloat16(tc.f))
		if math.Float32bits(back) != math.Float32bits(want) {
			t.Errorf("Float16ToFloat32(%#04x) = %g", tc.bits, back)
		}
	}
	if got := Float16ToFloat32(0x0001); got != 0x1p-24 {
		t.Errorf("Float16ToFloat32(1) = %g, want 2^-24", got)
	}
	if got := Float16ToFloat32(0x3555); math.Abs(float64(got)-0.333251953125) > 0 {
		t.Errorf("Float16ToFloat32(0x3555) = %g", got)
	}
	if h := Float32ToFloat16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN encodes to %#04x, not a NaN", h)
	}
	if h := Float32ToFloat16(math.Float32frombits(0xff800001)); h&0x7c00 != 0x7c00 || h&0x3ff == 0 || h&0x8000 == 0 {
		t.Errorf("negative signalling NaN encodes to %#04x, want a negative NaN", h)
	}
}

// TestFloat16RoundTripAll decodes every float16 bit pattern and encodes it back.
func TestFloat16RoundTripAll(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := Float16ToFloat32(h)
		isNaN := h&0x7c00 == 0x7c00 && h&0x3ff != 0
		if isNaN != math.IsNaN(float64(f)) {
			t.Fatalf("%#04x decodes to %g: NaN-ness changed", h, f)
		}
		back := Float32ToFloat16(f)
		if isNaN {
			// NaNs stay NaN with the same sign; a signalling NaN becomes quiet.
			if back&0x7c00 != 0x7c00 || back&0x3ff == 0 || back&0x8000 != h&0x8000 || back|0x200 != h|0x200 {
				t.Fatalf("NaN %#04x round-trips to %#04x", h, back)
			}
			continue
		}
		if back != h {
			t.Fatalf("%#04x -> %g -> %#04x", h, f, back)
		}
	}
}

// nearestEven finds, by brute force over a sorted table of a format's finite values, the
// value nearest to x with ties going to the code with an even last bit. It is the
// independent reference the bit-twiddling encoders are checked against.
type codeValue struct {
	code uint16
	v    float64
}

func nearestEven(table []codeValue, x float64) codeValue {
	i := sort.Search(len(table), func(i int) bool { return table[i].v >= x })
	if i == 0 {
		return table[0]
	}
	if i == len(table) {
		return table[len(table)-1]
	}
	lo, hi := table[i-1], table[i]
	dl, dh := x-lo.v, hi.v-x
	switch {
	case dl < dh:
		return lo
	case dh < dl:
		return hi
	case lo.code&1 == 0:
		return lo
	}
	return hi
}

func TestFloat16MatchesBruteForce(t *testing.T) {
	var table []codeValue
	for i := 0; i < 0x7c00; i++ { // non-negative finite values, increasing with the code
		table = append(table, codeValue{uint16(i), float64(Float16ToFloat32(uint16(i)))})
	}
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 200000; n++ {
		// Random exponents spanning below the subnormals to past the maximum.
		x := float32(math.Ldexp(rng.Float64()+0.5, rng.Intn(46)-30))
		got := Float32ToFloat16(x)
		want := nearestEven(table, float64(x))
		top := float64(Float16ToFloat32(0x7bff))
		if float64(x) >= top+0x1p4 { // at or past the midpoint between max and 2^16: Inf
			want.code = 0x7c00
		}
		if got != want.code {
			t.Fatalf("Float32ToFloat16(%g) = %#04x, want %#04x", x, got, want.code)
		}
	}
}

func TestBFloat16(t *testing.T) {
	tests := []struct {
		f    float32
		bits uint16
	}{
		{1, 0x3f80},
		{-1, 0xbf80},
		{0.8191054463386536, 0x3f52}, // 0.8203125: rounds up, truncation would not
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie: even stays
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie: odd rounds up
		{math.Float32frombits(0x7f7fffff), 0x7f80}, // max float32 rounds to Inf
		{float32(math.Inf(-1)), 0xff80},
	}
	for _, tc := range tests {
		if got := Float32ToBFloat16(tc.f); got != tc.bits {
			t.Errorf("Float32ToBFloat16(%g) = %#04x, want %#04x", tc.f, got, tc.bits)
		}
	}
	for _, nan := range []uint32{0x7fc00000, 0x7f800001, 0xff800001} {
		h := Float32ToBFloat16(math.Float32frombits(nan))
		if !math.IsNaN(float64(BFloat16ToFloat32(h))) || h>>15 != uint16(nan>>31) {
			t.Errorf("NaN %#08x encodes to %#04x", nan, h)
		}
	}
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := BFloat16ToFloat32(h)
		if math.IsNaN(float64(f)) {
			continue
		}
		if back := Float32ToBFloat16(f); back != h {
			t.Fatalf("bfloat16 %#04x -> %g -> %#04x", h, f, back)
		}
	}
}

// TestFloat8ONNXVectors checks the encodings of ONNX's backend tests test_cast_FLOAT_to_* and
// test_cast_no_saturate_FLOAT_to_* (the inputs and expected bytes are copied from them).
func TestFloat8ONNXVectors(t *testing.T) {
	in := []float32{0.4789254665374756, 0.48033666610717773, 0.4996848702430725, 0.8191054463386536,
		0.4703124761581421, 0.7229037880897522, 1000000.0, 1.0000000116860974e-07, float32(math.NaN()),
		float32(math.Inf(1)), float32(math.Inf(1)), float32(math.Inf(-1)), -1.0000000116860974e-07,
		1.0000000116860974e-07, -1000000.0}
	tests := []struct {
		dt       ir.DataType
		saturate bool
		want     []uint8
	}{
		{ir.Float8E4M3FN, true, []uint8{0x2f, 0x2f, 0x30, 0x35, 0x2f, 0x34, 0x7e, 0x00, 0x7f, 0x7e, 0x7e, 0xfe, 0x80, 0x00, 0xfe}},
		{ir.Float8E4M3FN, false, []uint8{0x2f, 0x2f, 0x30, 0x35, 0x2f, 0x34, 0x7f, 0x00, 0x7f, 0x7f, 0x7f, 0xff, 0x80, 0x00, 0xff}},
		{ir.Float8E4M3FNUZ, true, []uint8{0x37, 0x37, 0x38, 0x3d, 0x37, 0x3c, 0x7f, 0x00, 0x80, 0x7f, 0x7f, 0xff, 0x00, 0x00, 0xff}},
		{ir.Float8E4M3FNUZ, false, []uint8{0x37, 0x37, 0x38, 0x3d, 0x37, 0x3c, 0x80, 0x00, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0x80}},
		{ir.Float8E5M2, true, []uint8{0x38, 0x38, 0x38, 0x3b, 0x38, 0x3a, 0x7b, 0x00, 0x7e, 0x7b, 0x7b, 0xfb, 0x80, 0x00, 0xfb}},
		{ir.Float8E5M2, false, []uint8{0x38, 0x38, 0x38, 0x3b, 0x38, 0x3a, 0x7c, 0x00, 0x7e, 0x7c, 0x7c, 0xfc, 0x80, 0x00, 0xfc}},
		{ir.Float8E5M2FNUZ, true, []uint8{0x3c, 0x3c, 0x3c, 0x3f, 0x3c, 0x3e, 0x7f, 0x00, 0x80, 0x7f, 0x7f, 0xff, 0x00, 0x00, 0xff}},
		{ir.Float8E5M2FNUZ, false, []uint8{0x3c, 0x3c, 0x3c, 0x3f, 0x3c, 0x3e, 0x80, 0x00, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0x80}},
	}
	for _, tc := range tests {
		for i, x := range in {
			if got := Float32ToFloat8(tc.dt, x, tc.saturate); got != tc.want[i] {
				t.Errorf("%s saturate=%v: %g -> %#02x, want %#02x", tc.dt, tc.saturate, x, got, tc.want[i])
			}
		}
	}
	// test_cast_FLOAT_to_FLOAT4E2M1.
	in4 := []float32{0.48, 0.25, 1.05, -3.5, -8, 9, 1e6, 1e-7, float32(math.NaN()), float32(math.Inf(1)),
		float32(math.Inf(1)), float32(math.Inf(-1)), -4, 0.01, float32(math.Copysign(0, -1))}
	want4 := []uint8{1, 0, 2, 0xe, 0xf, 7, 7, 0, 8, 7, 7, 0xf, 0xe, 0, 8}
	for i, x := range in4 {
		if got := Float32ToFloat8(ir.Float4E2M1, x, false); got != want4[i] {
			t.Errorf("float4e2m1: %g -> %#x, want %#x", x, got, want4[i])
		}
	}
}

func TestFloat8DecodeKnown(t *testing.T) {
	tests := []struct {
		dt   ir.DataType
		bits uint8
		want float64
	}{
		{ir.Float8E4M3FN, 0x7e, 448}, {ir.Float8E4M3FN, 0x01, 0x1p-9}, {ir.Float8E4M3FN, 0x38, 1},
		{ir.Float8E4M3FN, 0xb8, -1}, {ir.Float8E4M3FN, 0x78, 256},
		{ir.Float8E4M3FNUZ, 0x7f, 240}, {ir.Float8E4M3FNUZ, 0x40, 1}, {ir.Float8E4M3FNUZ, 0x01, 0x1p-10},
		{ir.Float8E5M2, 0x7b, 57344}, {ir.Float8E5M2, 0x7c, math.Inf(1)}, {ir.Float8E5M2, 0xfc, math.Inf(-1)},
		{ir.Float8E5M2, 0x3c, 1}, {ir.Float8E5M2, 0x01, 0x1p-16},
		{ir.Float8E5M2FNUZ, 0x7f, 57344}, {ir.Float8E5M2FNUZ, 0x40, 1}, {ir.Float8E5M2FNUZ, 0x01, 0x1p-17},
		{ir.Float4E2M1, 0x7, 6}, {ir.Float4E2M1, 0x1, 0.5}, {ir.Float4E2M1, 0xd, -3}, {ir.Float4E2M1, 0x8, 0},
	}
	for _, tc := range tests {
		if got := Float8ToFloat32(tc.dt, tc.bits); float64(got) != tc.want {
			t.Errorf("%s %#02x decodes to %g, want %g", tc.dt, tc.bits, got, tc.want)
		}
	}
	nans := []struct {
		dt   ir.DataType
		bits uint8
	}{{ir.Float8E4M3FN, 0x7f}, {ir.Float8E4M3FN, 0xff}, {ir.Float8E4M3FNUZ, 0x80}, {ir.Float8E5M2, 0x7e},
		{ir.Float8E5M2, 0xfd}, {ir.Float8E5M2FNUZ, 0x80}}
	for _, tc := range nans {
		if got := Float8ToFloat32(tc.dt, tc.bits); !math.IsNaN(float64(got)) {
			t.Errorf("%s %#02x decodes to %g, want NaN", tc.dt, tc.bits, got)
		}
	}
}

// TestFloat8AllCodes round-trips every code of every format and checks the encoder against
// brute-force nearest-even rounding on random inputs.
func TestFloat8AllCodes(t *testing.T) {
	for _, dt := range []ir.DataType{ir.Float8E4M3FN, ir.Float8E4M3FNUZ, ir.Float8E5M2, ir.Float8E5M2FNUZ, ir.Float4E2M1} {
		codes := 256
		if dt == ir.Float4E2M1 {
			codes = 16
		}
		var table []codeValue
		for c := 0; c < codes; c++ {
			f := Float8ToFloat32(dt, uint8(c))
			if math.IsNaN(float64(f)) {
				if back := Float32ToFloat8(dt, f, true); !math.IsNaN(float64(Float8ToFloat32(dt, back))) && dt != ir.Float4E2M1 {
					t.Errorf("%s NaN code %#02x re-encodes to non-NaN %#02x", dt, c, back)
				}
				continue
			}
			back := Float32ToFloat8(dt, f, false)
			if back != uint8(c) {
				t.Errorf("%s code %#02x -> %g -> %#02x", dt, c, f, back)
			}
			if f >= 0 && !math.IsInf(float64(f), 0) && !(f == 0 && math.Signbit(float64(f))) {
				table = append(table, codeValue{uint16(c), float64(f)})
			}
		}
		sort.Slice(table, func(i, j int) bool { return table[i].v < table[j].v })
		maxV := table[len(table)-1].v
		rng := rand.New(rand.NewSource(2))
		for n := 0; n < 20000; n++ {
			x := float32(math.Ldexp(rng.Float64()+0.5, rng.Intn(30)-22))
			if float64(x) > maxV {
				continue // overflow is tested by the ONNX vectors
			}
			want := nearestEven(table, float64(x))
			if got := Float32ToFloat8(dt, x, true); uint16(got) != want.code {
				t.Fatalf("%s: %g -> %#02x, want %#02x (%g)", dt, x, got, want.code, want.v)
			}
		}
	}
}

func TestFloat8E8M0(t *testing.T) {
	// test_cast_e8m0_FLOAT_to_FLOAT8E8M0 (round up, saturate).
	in := []float32{0, 0.124, 0.25, 0.5, 1.1, 2, 4, 8}
	want := []uint8{0x00, 0x7c, 0x7d, 0x7e, 0x80, 0x80, 0x81, 0x82}
	for i, x := range in {
		if got := Float32ToFloat8E8M0(x, true, E8M0Up); got != want[i] {
			t.Errorf("up: %g -> %#02x, want %#02x", x, got, want[i])
		}
	}
	if got := Float32ToFloat8E8M0(1.1, true, E8M0Down); got != 0x7f {
		t.Errorf("down: 1.1 -> %#02x, want 0x7f", got)
	}
	if got := Float32ToFloat8E8M0(1.5, true, E8M0Nearest); got != 0x80 {
		t.Errorf("nearest: 1.5 -> %#02x, want 0x80 (ties up)", got)
	}
	if got := Float32ToFloat8E8M0(1.4, true, E8M0Nearest); got != 0x7f {
		t.Errorf("nearest: 1.4 -> %#02x, want 0x7f", got)
	}
	if got := Float32ToFloat8E8M0(float32(math.Inf(1)), false, E8M0Nearest); got != 0xff {
		t.Errorf("non-saturating Inf -> %#02x, want NaN 0xff", got)
	}
	if got := Float8E8M0ToFloat32(0); got != float32(math.Ldexp(1, -127)) {
		t.Errorf("e8m0 0 decodes to %g", got)
	}
	if got := Float8E8M0ToFloat32(0x80); got != 2 {
		t.Errorf("e8m0 0x80 decodes to %g", got)
	}
}

func TestSubByteIntegers(t *testing.T) {
	for _, tc := range []struct {
		in   uint8
		want int8
	}{{0x7, 7}, {0x8, -8}, {0xf, -1}, {0x0, 0}, {0x9, -7}} {
		if got := Int4ToInt8(tc.in); got != tc.want {
			t.Errorf("Int4ToInt8(%#x) = %d, want %d", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   uint8
		want int8
	}{{0, 0}, {1, 1}, {2, -2}, {3, -1}} {
		if got := Int2ToInt8(tc.in); got != tc.want {
			t.Errorf("Int2ToInt8(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	// test_cast_FLOAT_to_INT4: -9 wraps to 7, 8 to -8.
	if WrapInt4(-9) != 7 || Int4ToInt8(WrapInt4(8)) != -8 || WrapInt4(15) != 15 {
		t.Errorf("WrapInt4 does not keep the low bits")
	}
	if Int2ToInt8(WrapInt2(-3)) != 1 || Int2ToInt8(WrapInt2(2)) != -2 {
		t.Errorf("WrapInt2 does not keep the low bits")
	}
}
