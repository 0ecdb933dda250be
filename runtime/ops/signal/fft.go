package signal

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// fft transforms x in place: X[k] = Σ x[n]·e^(∓2πi·kn/N), with the minus sign forward and
// the plus sign for inverse. It does not scale the inverse by 1/N.
func fft(x []complex128, inverse bool) {
	n := len(x)
	if n <= 1 {
		return
	}
	if n&(n-1) == 0 {
		radix2(x, inverse)
		return
	}
	bluestein(x, inverse)
}

// fftScratchBytes bounds what fft allocates for a transform of n points: Bluestein's two
// buffers of m < 4n points, its chirp of n and the twiddles of m/2. fft has no error
// result, so its callers weigh this against the memory budget before the first transform
// (the scratch of one transform is garbage by the next).
func fftScratchBytes(n int) int64 { return int64(n) * 11 * 16 }

// twiddle returns e^(∓2πi·k/n) computed directly (no recurrence), so errors do not grow
// with k.
func twiddle(k, n int, inverse bool) complex128 {
	s, c := math.Sincos(2 * math.Pi * float64(k) / float64(n))
	if inverse {
		return complex(c, s)
	}
	return complex(c, -s)
}

// radix2 is the iterative Cooley-Tukey transform for power-of-two lengths.
func radix2(x []complex128, inverse bool) {
	n := len(x)
	shift := 64 - uint(bits.TrailingZeros(uint(n)))
	for i := range x {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	tw := make([]complex128, n/2)
	for k := range tw {
		tw[k] = twiddle(k, n, inverse)
	}
	for size := 2; size <= n; size <<= 1 {
		half, step := size/2, n/size
		for start := 0; start < n; start += size {
			for k := 0; k < half; k++ {
				a, b := x[start+k], x[start+k+half]*tw[k*step]
				x[start+k], x[start+k+half] = a+b, a-b
			}
		}
	}
}

// bluestein computes a transform of any length as a convolution with a chirp, evaluated
// by power-of-two transforms of at least 2n−1 points.
func bluestein(x []complex128, inverse bool) {
	n := len(x)
	m := 1
	for m < 2*n-1 {
		m <<= 1
	}
	// chirp[k] = e^(∓πi·k²/n); k² is reduced mod 2n first so the angle stays small and exact.
	chirp := make([]complex128, n)
	for k := range chirp {
		k2 := (k * k) % (2 * n)
		chirp[k] = twiddle(k2, 2*n, inverse)
	}
	a := make([]complex128, m)
	b := make([]complex128, m)
	for k := 0; k < n; k++ {
		a[k] = x[k] * chirp[k]
	}
	b[0] = cmplx.Conj(chirp[0])
	for k := 1; k < n; k++ {
		c := cmplx.Conj(chirp[k])
		b[k], b[m-k] = c, c
	}
	radix2(a, false)
	radix2(b, false)
	for i := range a {
		a[i] *= b[i]
	}
	radix2(a, true)
	scale := complex(1/float64(m), 0)
	for k := 0; k < n; k++ {
		x[k] = a[k] * scale * chirp[k]
	}
}
