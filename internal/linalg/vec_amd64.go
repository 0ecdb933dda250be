//go:build amd64 && !noasm

package linalg

import "golang.org/x/sys/cpu"

//go:noescape
func sigmoidAVX512(x *float32, n int)

//go:noescape
func siluAVX512(x *float32, n int)

//go:noescape
func hardSwishAVX512(x *float32, n int)

//go:noescape
func clampAVX512(x *float32, n int, lo, hi float32)

//go:noescape
func addToAVX512(dst, src *float32, n int)

//go:noescape
func maxToAVX512(dst, src *float32, n int)

//go:noescape
func mulToAVX512(dst, src *float32, n int)

//go:noescape
func geluAVX512(x *float32, n int)

//go:noescape
func addScalarAVX512(dst, a *float32, n int, s float32)

//go:noescape
func mulScalarAVX512(dst, a *float32, n int, s float32)

//go:noescape
func sumAVX512(x *float32, n int) float32

//go:noescape
func dotAVX512(x, y *float32, n int) float32

//go:noescape
func maxAVX512(x *float32, n int) float32

//go:noescape
func expAVX512(x *float32, n int)

//go:noescape
func sigmoidAVX2(x *float32, n int)

//go:noescape
func siluAVX2(x *float32, n int)

//go:noescape
func addToAVX2(dst, src *float32, n int)

//go:noescape
func mulToAVX2(dst, src *float32, n int)

//go:noescape
func addScaledAVX512(dst, a *float32, n int, s float32)

//go:noescape
func addScaledAVX2(dst, a *float32, n int, s float32)

//go:noescape
func addScaled4AVX512(dst, b *float32, ldb, n int, s *[4]float32)

//go:noescape
func addScaled4AVX2(dst, b *float32, ldb, n int, s *[4]float32)

//go:noescape
func maxToAVX2(dst, src *float32, n int)

//go:noescape
func addScalarAVX2(dst, a *float32, n int, s float32)

//go:noescape
func mulScalarAVX2(dst, a *float32, n int, s float32)

// A vecImpl is one set of vector routines, for tests that compare each with the Go one.
type vecImpl struct {
	name                           string
	sigmoid, silu, hardSwish, gelu func([]float32)
	clamp                          func([]float32, float32, float32)
	addTo, maxTo, mulTo            func(dst, src []float32)
	addScalar, mulScalar           func(dst, a []float32, s float32)
	sum, max                       func([]float32) float32
	dot                            func(x, y []float32) float32
	exp                            func([]float32)
	addScaled                      func(dst, a []float32, s float32)
	addScaled4                     func(dst, b []float32, ldb int, s *[4]float32)
}

var (
	vecGo = vecImpl{"go", sigmoidGo, siluGo, hardSwishGo, geluGo, clampGo, addToGo, maxToGo, mulToGo,
		addScalarGo, mulScalarGo, sumGo, maxGo, dotGo, expGo, addScaledGo, addScaled4Go}

	vecAVX512 = vecImpl{"avx512",
		unary512(sigmoidAVX512), unary512(siluAVX512), unary512(hardSwishAVX512), unary512(geluAVX512),
		func(x []float32, lo, hi float32) {
			if len(x) > 0 {
				clampAVX512(&x[0], len(x), lo, hi)
			}
		},
		binary512(addToAVX512), binary512(maxToAVX512), binary512(mulToAVX512),
		scalar512(addScalarAVX512), scalar512(mulScalarAVX512),
		func(x []float32) float32 {
			if len(x) == 0 {
				return 0
			}
			return sumAVX512(&x[0], len(x))
		},
		func(x []float32) float32 { return maxAVX512(&x[0], len(x)) },
		func(x, y []float32) float32 {
			if len(x) == 0 {
				return 0
			}
			_ = y[len(x)-1]
			return dotAVX512(&x[0], &y[0], len(x))
		},
		unary512(expAVX512), scalar512(addScaledAVX512),
		func(dst, b []float32, ldb int, s *[4]float32) {
			if len(dst) > 0 {
				_ = b[3*ldb+len(dst)-1]
				addScaled4AVX512(&dst[0], &b[0], ldb, len(dst), s)
			}
		}}

	// AVX2 has no masked loads for the tail: the last len%8 elements go through Go.
	vecAVX2 = vecImpl{"avx2", unary256(sigmoidAVX2, sigmoidGo), unary256(siluAVX2, siluGo), hardSwishGo, geluGo,
		clampGo, binary256(addToAVX2, addToGo), binary256(maxToAVX2, maxToGo), binary256(mulToAVX2, mulToGo),
		scalar256(addScalarAVX2, addScalarGo), scalar256(mulScalarAVX2, mulScalarGo), sumGo, maxGo, dotGo, expGo,
		scalar256(addScaledAVX2, addScaledGo),
		func(dst, b []float32, ldb int, s *[4]float32) {
			n := len(dst) &^ 7
			if n > 0 {
				_ = b[3*ldb+n-1]
				addScaled4AVX2(&dst[0], &b[0], ldb, n, s)
			}
			if n < len(dst) {
				addScaled4Go(dst[n:], b[n:], ldb, s)
			}
		}}
)

func unary512(f func(*float32, int)) func([]float32) {
	return func(x []float32) {
		if len(x) > 0 {
			f(&x[0], len(x))
		}
	}
}

func binary512(f func(*float32, *float32, int)) func(dst, src []float32) {
	return func(dst, src []float32) {
		if len(dst) > 0 {
			_ = src[len(dst)-1]
			f(&dst[0], &src[0], len(dst))
		}
	}
}

func scalar512(f func(*float32, *float32, int, float32)) func(dst, a []float32, s float32) {
	return func(dst, a []float32, s float32) {
		if len(dst) > 0 {
			_ = a[len(dst)-1]
			f(&dst[0], &a[0], len(dst), s)
		}
	}
}

func unary256(f func(*float32, int), tail func([]float32)) func([]float32) {
	return func(x []float32) {
		n := len(x) &^ 7
		if n > 0 {
			f(&x[0], n)
		}
		tail(x[n:])
	}
}

func binary256(f func(*float32, *float32, int), tail func(dst, src []float32)) func(dst, src []float32) {
	return func(dst, src []float32) {
		n := len(dst) &^ 7
		if n > 0 {
			_ = src[n-1]
			f(&dst[0], &src[0], n)
		}
		tail(dst[n:], src[n:len(dst)])
	}
}

func scalar256(f func(*float32, *float32, int, float32), tail func(dst, a []float32, s float32)) func(dst, a []float32, s float32) {
	return func(dst, a []float32, s float32) {
		n := len(dst) &^ 7
		if n > 0 {
			_ = a[n-1]
			f(&dst[0], &a[0], n, s)
		}
		tail(dst[n:], a[n:len(dst)], s)
	}
}

func vecImpls() []vecImpl {
	impls := []vecImpl{vecGo}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		impls = append(impls, vecAVX2)
	}
	if cpu.X86.HasAVX512F {
		impls = append(impls, vecAVX512)
	}
	return impls
}

func init() {
	impls := vecImpls()
	v := impls[len(impls)-1]
	sigmoidImpl, siluImpl, hardSwishImpl, geluImpl, clampImpl = v.sigmoid, v.silu, v.hardSwish, v.gelu, v.clamp
	addToImpl, maxToImpl, mulToImpl = v.addTo, v.maxTo, v.mulTo
	addScalarImpl, mulScalarImpl, addScaledImpl, addScaled4Impl = v.addScalar, v.mulScalar, v.addScaled, v.addScaled4
	sumImpl, maxImpl, dotImpl, expImpl = v.sum, v.max, v.dot, v.exp
}
