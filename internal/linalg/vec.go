package linalg

import "math"

// Vector routines for activations and elementwise epilogues, in place over float32
// slices. Each has a portable Go definition (the *Go functions, which the tests compare
// the assembly versions with) and, on amd64, AVX-512 and AVX2 versions chosen at start-up.
// The assembly computes exp with a degree-6 polynomial after range reduction (as Cephes'
// expf does), within 2 ulp of math.Exp; Sigmoid and SiLU then agree with the float64
// reference kernels to a few float32 ulp.

// Sigmoid sets x[i] = 1 / (1 + e^-x[i]).
func Sigmoid(x []float32) { sigmoidImpl(x) }

// SiLU sets x[i] = x[i]·sigmoid(x[i]) (also called swish).
func SiLU(x []float32) { siluImpl(x) }

// HardSwish sets x[i] = x[i]·min(max(x[i]/6 + 1/2, 0), 1), computing the inner term as
// (x+3)/6, which keeps its precision near -3.
func HardSwish(x []float32) { hardSwishImpl(x) }

// Clamp sets x[i] = min(max(x[i], lo), hi).
func Clamp(x []float32, lo, hi float32) { clampImpl(x, lo, hi) }

// AddTo sets dst[i] += src[i] for i < len(dst).
func AddTo(dst, src []float32) { addToImpl(dst, src[:len(dst)]) }

// MaxTo sets dst[i] = max(dst[i], src[i]) for i < len(dst). The vector versions (vmaxps)
// take src[i] where dst[i] is NaN; the Go loop keeps the NaN.
func MaxTo(dst, src []float32) { maxToImpl(dst, src[:len(dst)]) }

// AddScalar sets dst[i] = a[i] + s for i < len(dst).
func AddScalar(dst, a []float32, s float32) { addScalarImpl(dst, a[:len(dst)], s) }

// MulScalar sets dst[i] = a[i]·s for i < len(dst).
func MulScalar(dst, a []float32, s float32) { mulScalarImpl(dst, a[:len(dst)], s) }

// AddScaled sets dst[i] += s·a[i] for i < len(dst) (BLAS's axpy). The vector versions
// round once (a fused multiply-add), the Go loop twice.
func AddScaled(dst, a []float32, s float32) { addScaledImpl(dst, a[:len(dst)], s) }

// AddScaled4 adds four scaled rows of B to dst, reading and writing dst once:
//
//	dst[j] += s[0]·b[j] + s[1]·b[ldb+j] + s[2]·b[2·ldb+j] + s[3]·b[3·ldb+j]   (j < len(dst))
//
// summed left to right, as four AddScaled calls would (and, in the vector versions, to the
// same bits).
func AddScaled4(dst, b []float32, ldb int, s *[4]float32) {
	if len(dst) == 0 {
		return
	}
	_ = b[3*ldb+len(dst)-1]
	addScaled4Impl(dst, b, ldb, s)
}

// Gelu sets x[i] = x[i]/2·(1 + erf(x[i]/√2)), the exact GELU. The assembly evaluates erf
// with Abramowitz and Stegun's 7.1.26 (absolute error under 1.5e-7), so the result is
// within about 1e-7·max(1, |x|) of the exact one: relative to x, not to GELU's tiny tail
// values for very negative x.
func Gelu(x []float32) { geluImpl(x) }

// Sum returns Σ x[i] (in float32, vector lanes summed last).
func Sum(x []float32) float32 { return sumImpl(x) }

// Dot returns Σ x[i]·y[i] for i < len(x).
func Dot(x, y []float32) float32 { return dotImpl(x, y[:len(x)]) }

// Max returns the largest element of x (-Inf for an empty x; NaNs are not ordered).
func Max(x []float32) float32 {
	if len(x) == 0 {
		return float32(math.Inf(-1))
	}
	return maxImpl(x)
}

// Exp sets x[i] = e^x[i], for arguments in [-87, 88] (beyond, the nearest bound's value).
func Exp(x []float32) { expImpl(x) }

// MulTo sets dst[i] *= src[i] for i < len(dst).
func MulTo(dst, src []float32) { mulToImpl(dst, src[:len(dst)]) }

func sigmoidGo(x []float32) {
	for i, v := range x {
		x[i] = sigmoid64(v)
	}
}

func sigmoid64(v float32) float32 {
	if v >= 0 {
		return float32(1 / (1 + math.Exp(-float64(v))))
	}
	e := math.Exp(float64(v))
	return float32(e / (1 + e))
}

func siluGo(x []float32) {
	for i, v := range x {
		x[i] = v * sigmoid64(v)
	}
}

func hardSwishGo(x []float32) {
	for i, v := range x {
		x[i] = v * min(max((v+3)/6, 0), 1)
	}
}

func clampGo(x []float32, lo, hi float32) {
	for i, v := range x {
		x[i] = min(max(v, lo), hi)
	}
}

func addToGo(dst, src []float32) {
	for i := range dst {
		dst[i] += src[i]
	}
}

func maxToGo(dst, src []float32) {
	for i := range dst {
		dst[i] = max(dst[i], src[i])
	}
}

func addScalarGo(dst, a []float32, s float32) {
	for i := range dst {
		dst[i] = a[i] + s
	}
}

func mulScalarGo(dst, a []float32, s float32) {
	for i := range dst {
		dst[i] = a[i] * s
	}
}

func addScaledGo(dst, a []float32, s float32) {
	for i := range dst {
		dst[i] += s * a[i]
	}
}

func addScaled4Go(dst, b []float32, ldb int, s *[4]float32) {
	b0, b1, b2, b3 := b[:len(dst)], b[ldb:ldb+len(dst)], b[2*ldb:2*ldb+len(dst)], b[3*ldb:3*ldb+len(dst)]
	for j := range dst {
		dst[j] = dst[j] + s[0]*b0[j] + s[1]*b1[j] + s[2]*b2[j] + s[3]*b3[j]
	}
}

func geluGo(x []float32) {
	for i, v := range x {
		x[i] = float32(float64(v) * 0.5 * (1 + math.Erf(float64(v)/math.Sqrt2)))
	}
}

func sumGo(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v
	}
	return s
}

func dotGo(x, y []float32) float32 {
	var s float32
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

func maxGo(x []float32) float32 {
	m := x[0]
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

func expGo(x []float32) {
	for i, v := range x {
		x[i] = float32(math.Exp(float64(min(max(v, -87), 88))))
	}
}

func mulToGo(dst, src []float32) {
	for i := range dst {
		dst[i] *= src[i]
	}
}

// vecImpls are the routines in use; the amd64 init replaces them.
var (
	sigmoidImpl    = sigmoidGo
	siluImpl       = siluGo
	hardSwishImpl  = hardSwishGo
	clampImpl      = clampGo
	addToImpl      = addToGo
	maxToImpl      = maxToGo
	mulToImpl      = mulToGo
	addScalarImpl  = addScalarGo
	mulScalarImpl  = mulScalarGo
	addScaledImpl  = addScaledGo
	addScaled4Impl = addScaled4Go
	geluImpl       = geluGo
	sumImpl        = sumGo
	dotImpl        = dotGo
	maxImpl        = maxGo
	expImpl        = expGo
)
