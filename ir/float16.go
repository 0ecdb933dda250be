package ir

import "math"

// The conversions between float32 and the two 16-bit float element types, which tensors
// store as bits. They live here, at the bottom of the import graph, so that every package
// that reads or writes a half-precision constant (passes, inference, diffing, the runtime's
// kernels) decodes it the same way.

// Float16ToFloat32 decodes IEEE 754 half-precision bits. Every float16 value, subnormals,
// infinities and NaN payloads included, is exactly representable as a float32.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // infinity or NaN: keep the payload
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: mant × 2^-24, which is a normal float32; renormalise.
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// Float32ToFloat16 encodes f as half precision, rounding to nearest even. Values beyond the
// float16 range become ±Inf, values below half the smallest subnormal become ±0, and NaN
// stays NaN (quiet, sign and top payload bits kept).
func Float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7c00 | 0x200 | uint16(mant>>13)
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Result is subnormal (or zero): the float16 unit is 2^-24, so the integer mantissa
		// is the 24-bit float32 significand shifted right by 126-exp.
		if exp == 0 {
			return sign // float32 subnormals are far below float16's range
		}
		shift := uint(126 - exp)
		if shift > 24 {
			return sign
		}
		return sign | uint16(roundShiftEven(mant|0x800000, shift))
	}
	// Normal: a carry out of the mantissa correctly bumps the exponent (up to Inf).
	return sign | uint16(roundShiftEven(uint32(e)<<23|mant, 13))
}

// roundShiftEven returns v >> shift rounded to nearest, ties to even.
func roundShiftEven(v uint32, shift uint) uint32 {
	if shift == 0 {
		return v
	}
	r := v >> shift
	rem := v & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rem > half || (rem == half && r&1 == 1) {
		r++
	}
	return r
}

// BFloat16ToFloat32 decodes bfloat16 bits (the top half of a float32).
func BFloat16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// Float32ToBFloat16 encodes f as bfloat16, rounding to nearest even; NaN stays a quiet NaN.
func Float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
