package linalg

import (
	"fmt"
)

// QRequant turns QGemm's int32 results into 8-bit outputs the way ONNX's QLinearConv and
// QLinearMatMul define it:
//
//	y[i][j] = clamp(RoundHalfEven(acc[i][j]·Scale[j]) + ZeroPoint, Min, Max)
//
// where Scale[j] is x_scale·w_scale[j]/y_scale. The product is formed in float32, as ONNX
// Runtime's kernels (MLAS) do, sixteen lanes at a time: it can differ from the float64
// arithmetic of whittle's reference loops by one step where the exact product lies within
// a float32 rounding of a half, and from MLAS not at all. Min and Max are the output type's
// range (0..255 or −128..127), narrowed by a fused Relu or Clip. Make one with NewQRequant.
type QRequant struct {
	scale     []float32 // per column
	zeroPoint float32
	lo, hi    float32
}

// NewQRequant prepares requantization to n columns with one scale per column (or one for
// all), an output zero point, and the clamp range [lo, hi] (which must lie within
// [−128, 255]).
func NewQRequant(n int, scales []float32, zeroPoint, lo, hi int32) (*QRequant, error) {
	if len(scales) != 1 && len(scales) != n {
		return nil, fmt.Errorf("qrequant: %d scales for %d columns (want 1 or %d)", len(scales), n, n)
	}
	if lo > hi || lo < -128 || hi > 255 {
		return nil, fmt.Errorf("qrequant: clamp range [%d, %d] is not within [-128, 255]", lo, hi)
	}
	q := &QRequant{scale: make([]float32, n), zeroPoint: float32(zeroPoint), lo: float32(lo), hi: float32(hi)}
	for j := range q.scale {
		q.scale[j] = scales[min(j, len(scales)-1)]
	}
	return q, nil
}

// Columns is the number of columns q requantizes.
func (q *QRequant) Columns() int { return len(q.scale) }

// Rows requantizes rows×Columns() values of c (row stride ldc) into y (row stride ldy):
// bytes that are uint8 values, or int8 values in two's complement.
func (q *QRequant) Rows(rows int, c []int32, ldc int, y []uint8, ldy int) {
	n := len(q.scale)
	for r := 0; r < rows; r++ {
		q.row(c[r*ldc:r*ldc+n], y[r*ldy:r*ldy+n])
	}
}

// requantGo is the portable requantization of one row (and the tail of the AVX2 one).
func (q *QRequant) requantGo(c []int32, scale []float32, y []uint8) {
	zp, lo, hi := float64(q.zeroPoint), float64(q.lo), float64(q.hi)
	scale = scale[:len(c)]
	y = y[:len(c)]
	for j, v := range c {
		// The conversion rounds the product to float32 (no fused multiply-add).
		f := roundHalfEven(float64(float32(float32(v)*scale[j]))) + zp
		// Comparisons rather than math.Min and math.Max, which are calls: this loop is
		// the tail of every row whose width is not a multiple of 16.
		if f < lo {
			f = lo
		} else if f > hi {
			f = hi
		}
		y[j] = uint8(int32(f))
	}
}

// roundHalfEven is math.RoundToEven without the call: below 2^52 in magnitude, adding and
// subtracting 2^52 rounds to an integer in the default (half to even) rounding mode;
// above it every float64 is an integer.
func roundHalfEven(x float64) float64 {
	const big = 1 << 52
	switch {
	case x >= 0 && x < big:
		return (x + big) - big
	case x < 0 && x > -big:
		return (x - big) + big
	}
	return x
}
