package kernel

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
)

// This file holds the conversions between float32 and the narrow element types that the
// runtime stores as bits: float16 and bfloat16 ([]uint16), the float8 family, float4e2m1
// and the 4-bit and 2-bit integers ([]uint8, one element per byte). Every conversion to a
// narrower float rounds to nearest, ties to even, as ONNX's Cast specifies.

// Float16ToFloat32 decodes IEEE 754 half-precision bits (ir.Float16ToFloat32, kept here so
// that kernels name every element conversion through one package).
func Float16ToFloat32(h uint16) float32 { return ir.Float16ToFloat32(h) }

// Float32ToFloat16 encodes f as half precision, rounding to nearest even (ir.Float32ToFloat16).
func Float32ToFloat16(f float32) uint16 { return ir.Float32ToFloat16(f) }

// BFloat16ToFloat32 decodes bfloat16 bits (ir.BFloat16ToFloat32).
func BFloat16ToFloat32(h uint16) float32 { return ir.BFloat16ToFloat32(h) }

// Float32ToBFloat16 encodes f as bfloat16, rounding to nearest even (ir.Float32ToBFloat16).
func Float32ToBFloat16(f float32) uint16 { return ir.Float32ToBFloat16(f) }

// minifloat describes one of the 8-bit or 4-bit float formats.
type minifloat struct {
	expBits, mantBits uint
	bias              int
	// fnuz formats have no negative zero and a single NaN, 0x80.
	fnuz bool
	// hasInf formats (E5M2) encode ±Inf as an all-ones exponent with a zero mantissa.
	hasInf bool
	// allOnesNaN formats (E4M3FN) use only S.1111.111 for NaN; the rest of the top binade
	// holds finite values.
	allOnesNaN bool
	// nanBits is what a positive NaN encodes to (the sign bit is added for signed NaNs).
	nanBits uint8
	// maxBits is the encoding of the largest finite value.
	maxBits uint8
}

var (
	fmtE4M3FN   = minifloat{expBits: 4, mantBits: 3, bias: 7, allOnesNaN: true, nanBits: 0x7f, maxBits: 0x7e}
	fmtE4M3FNUZ = minifloat{expBits: 4, mantBits: 3, bias: 8, fnuz: true, nanBits: 0x80, maxBits: 0x7f}
	fmtE5M2     = minifloat{expBits: 5, mantBits: 2, bias: 15, hasInf: true, nanBits: 0x7e, maxBits: 0x7b}
	fmtE5M2FNUZ = minifloat{expBits: 5, mantBits: 2, bias: 16, fnuz: true, nanBits: 0x80, maxBits: 0x7f}
	// float4e2m1 has neither Inf nor NaN; ONNX saturates and maps NaN to 0x8 (-0).
	fmtE2M1 = minifloat{expBits: 2, mantBits: 1, bias: 1, nanBits: 0x8, maxBits: 0x7}
)

func (m minifloat) signBit() uint8 { return 1 << (m.expBits + m.mantBits) }

func (m minifloat) decode(b uint8) float32 {
	if m.fnuz && b == 0x80 {
		return float32(math.NaN())
	}
	neg := b&m.signBit() != 0
	e := int(b>>m.mantBits) & (1<<m.expBits - 1)
	mant := int(b) & (1<<m.mantBits - 1)
	topExp := 1<<m.expBits - 1
	var v float64
	switch {
	case m.hasInf && e == topExp:
		if mant != 0 {
			return float32(math.NaN())
		}
		v = math.Inf(1)
	case m.allOnesNaN && e == topExp && mant == 1<<m.mantBits-1:
		if neg {
			return float32(math.Copysign(math.NaN(), -1))
		}
		return float32(math.NaN())
	case e == 0:
		v = math.Ldexp(float64(mant), 1-m.bias-int(m.mantBits))
	default:
		v = math.Ldexp(float64(mant|1<<m.mantBits), e-m.bias-int(m.mantBits))
	}
	if neg {
		v = -v
	}
	return float32(v)
}

// encode rounds f to nearest even in format m. saturate clamps out-of-range values (and
// infinities) to ±max; otherwise they become Inf where the format has it, else NaN.
func (m minifloat) encode(f float32, saturate bool) uint8 {
	x := float64(f)
	var sign uint8
	if math.Signbit(x) {
		sign = m.signBit()
	}
	nan := m.nanBits
	if !m.fnuz && m.nanBits != 0x8 {
		nan |= sign
	}
	if math.IsNaN(x) {
		return nan
	}
	overflow := func() uint8 {
		switch {
		case saturate:
			return sign | m.maxBits
		case m.hasInf:
			return sign | uint8(1<<m.expBits-1)<<m.mantBits
		case m.fnuz:
			return 0x80
		}
		return nan
	}
	a := math.Abs(x)
	if math.IsInf(a, 0) {
		return overflow()
	}
	if a == 0 {
		if m.fnuz {
			return 0
		}
		return sign
	}
	// Round a to the format's grid: the spacing is 2^(e-mantBits) where e is a's binade,
	// but never finer than the subnormal spacing.
	minExp := 1 - m.bias
	_, e2 := math.Frexp(a) // a = frac × 2^e2, frac in [0.5, 1)
	e := e2 - 1
	if e < minExp {
		e = minExp
	}
	quantum := e - int(m.mantBits)
	r := math.RoundToEven(math.Ldexp(a, -quantum)) // integer significand, may carry to 2^(mantBits+1)
	if r == 0 {
		if m.fnuz {
			return 0
		}
		return sign
	}
	if r >= float64(int(1)<<(m.mantBits+1)) {
		r /= 2
		e++
	}
	var bits int
	if r < float64(int(1)<<m.mantBits) { // subnormal
		bits = int(r)
	} else {
		bits = (e+m.bias)<<m.mantBits | (int(r) - 1<<m.mantBits)
	}
	if bits > int(m.maxBits) {
		return overflow()
	}
	return sign | uint8(bits)
}

func minifloatFormat(dt ir.DataType) (minifloat, bool) {
	switch dt {
	case ir.Float8E4M3FN:
		return fmtE4M3FN, true
	case ir.Float8E4M3FNUZ:
		return fmtE4M3FNUZ, true
	case ir.Float8E5M2:
		return fmtE5M2, true
	case ir.Float8E5M2FNUZ:
		return fmtE5M2FNUZ, true
	case ir.Float4E2M1:
		return fmtE2M1, true
	}
	return minifloat{}, false
}

// IsFloat8 reports whether dt is one of the float8 types or float4e2m1 that Float8ToFloat32
// and Float32ToFloat8 handle (float8e8m0 has its own functions).
func IsFloat8(dt ir.DataType) bool {
	_, ok := minifloatFormat(dt)
	return ok
}

// Float8ToFloat32 decodes one element of dt, which must be Float8E4M3FN, Float8E4M3FNUZ,
// Float8E5M2, Float8E5M2FNUZ or Float4E2M1 (low nibble); other types decode to NaN.
func Float8ToFloat32(dt ir.DataType, b uint8) float32 {
	m, ok := minifloatFormat(dt)
	if !ok {
		return float32(math.NaN())
	}
	return m.decode(b)
}

// Float32ToFloat8 encodes f as dt (see Float8ToFloat32 for the types) with round to nearest
// even and ONNX Cast-19's saturate semantics: with saturate, ±Inf and values beyond the
// largest finite value become ±max; without, they become ±Inf (E5M2) or NaN. Float4E2M1
// always saturates, and NaN becomes 0x8.
func Float32ToFloat8(dt ir.DataType, f float32, saturate bool) uint8 {
	m, ok := minifloatFormat(dt)
	if !ok {
		return 0
	}
	if dt == ir.Float4E2M1 {
		saturate = true
	}
	return m.encode(f, saturate)
}

// Float8E8M0ToFloat32 decodes a float8e8m0 scale: 2^(b-127), with 0xFF the NaN.
func Float8E8M0ToFloat32(b uint8) float32 {
	if b == 0xff {
		return float32(math.NaN())
	}
	return float32(math.Ldexp(1, int(b)-127))
}

// E8M0Rounding is the round_mode of Cast to float8e8m0.
type E8M0Rounding int

// The float8e8m0 rounding modes: away from zero ("up", the default), toward zero ("down")
// and to nearest with ties up ("nearest").
const (
	E8M0Up E8M0Rounding = iota
	E8M0Down
	E8M0Nearest
)

// Float32ToFloat8E8M0 encodes f as a power-of-two scale. Non-positive values have no
// encoding; ONNX leaves them unspecified and this returns the smallest scale for zero and
// the scale of |f| otherwise. Without saturate, values out of range become NaN (0xFF).
func Float32ToFloat8E8M0(f float32, saturate bool, mode E8M0Rounding) uint8 {
	x := math.Abs(float64(f))
	if math.IsNaN(x) {
		return 0xff
	}
	if math.IsInf(x, 0) {
		if saturate {
			return 0xfe
		}
		return 0xff
	}
	if x == 0 {
		if saturate {
			return 0
		}
		return 0xff
	}
	frac, e2 := math.Frexp(x) // x = frac × 2^e2, frac in [0.5, 1)
	e := e2 - 1               // x = (2 frac) × 2^e, 2 frac in [1, 2)
	if frac != 0.5 {
		switch mode {
		case E8M0Up:
			e++
		case E8M0Nearest:
			if 2*frac >= 1.5 {
				e++
			}
		}
	}
	biased := e + 127
	switch {
	case biased > 254:
		if saturate {
			return 0xfe
		}
		return 0xff
	case biased < 0:
		if saturate {
			return 0
		}
		return 0xff
	}
	return uint8(biased)
}

// Int4ToInt8 sign-extends the low nibble of b (a stored int4 element).
func Int4ToInt8(b uint8) int8 { return int8(b<<4) >> 4 }

// Int2ToInt8 sign-extends the low two bits of b (a stored int2 element).
func Int2ToInt8(b uint8) int8 { return int8(b<<6) >> 6 }

// WrapInt4 stores the low four bits of v, which is how ONNX casts an out-of-range integer
// to int4 or uint4 (keep the low bits, reinterpret in two's complement).
func WrapInt4(v int64) uint8 { return uint8(v) & 0x0f }

// WrapInt2 stores the low two bits of v (see WrapInt4).
func WrapInt2(v int64) uint8 { return uint8(v) & 0x03 }
