package linalg

// A microKernel adds alpha·(a-panel × b-panel) to an mr×nr tile of C (row stride ldc):
// for each p < kc, a holds the mr values of column p of the A panel and b the nr values
// of row p of the B panel. Every variant computes
//
//	for p := 0; p < kc; p++ {
//		for r := 0; r < mr; r++ {
//			for j := 0; j < nr; j++ {
//				acc[r][j] += a[mr*p+r] * b[nr*p+j]
//			}
//		}
//	}
//	c[r*ldc+j] += alpha * acc[r][j]
type microKernel struct {
	name   string
	mr, nr int
	fn     func(kc int, alpha float32, a, b []float32, c []float32, ldc int)
}

// goKernel is the portable micro-kernel: 3×4 is the largest tile whose accumulators and
// operands fit the 15 float registers Go's compiler allocates on amd64 without spilling in
// the inner loop (4×4 and 4×8 spill, and measured slower).
var goKernel = &microKernel{"go3x4", 3, 4, kernel3x4}

// defaultKernel is the fastest micro-kernel this CPU runs, chosen at start-up
// (sgemm_amd64.go); packed operands remember the kernel they were packed for.
var defaultKernel = goKernel

// kernel3x4 adds alpha·(a-panel × b-panel) to the 3×4 tile of C at c (row stride ldc).
// a holds kc groups of 3, b kc groups of 4.
func kernel3x4(kc int, alpha float32, a, b []float32, c []float32, ldc int) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23 float32
	a = a[:3*kc]
	b = b[:4*kc]
	for len(a) >= 3 && len(b) >= 4 {
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		a0 := a[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := a[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := a[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a = a[3:]
		b = b[4:]
	}
	r := c[0:4:4]
	r[0] += alpha * c00
	r[1] += alpha * c01
	r[2] += alpha * c02
	r[3] += alpha * c03
	r = c[ldc : ldc+4 : ldc+4]
	r[0] += alpha * c10
	r[1] += alpha * c11
	r[2] += alpha * c12
	r[3] += alpha * c13
	r = c[2*ldc : 2*ldc+4 : 2*ldc+4]
	r[0] += alpha * c20
	r[1] += alpha * c21
	r[2] += alpha * c22
	r[3] += alpha * c23
}
