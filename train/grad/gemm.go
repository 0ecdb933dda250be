package grad

// The backward products go through sgemm, the one seam between the gradient rules and a
// matrix-multiply implementation. It is the portable loop below until the runtime's packed
// GEMM (AVX2/AVX-512 micro-kernels) is exported from internal/linalg; then sgemm becomes a
// call to it and no rule changes.

// sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32 matrices, op(A) m×k
// (A is k×m when transA), op(B) k×n (B is n×k when transB), with row strides lda, ldb and
// ldc. beta == 0 overwrites C without reading it, as in BLAS.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if beta != 1 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
				continue
			}
			for j := range row {
				row[j] *= beta
			}
		}
	}
	if k <= 0 || alpha == 0 {
		return
	}
	switch {
	case !transA && !transB:
		// c[i,:] += a[i,p]·b[p,:]: the inner loop runs along rows of B and C.
		for i := 0; i < m; i++ {
			crow := c[i*ldc : i*ldc+n]
			for p := 0; p < k; p++ {
				if av := alpha * a[i*lda+p]; av != 0 {
					axpy(crow, b[p*ldb:p*ldb+n], av)
				}
			}
		}
	case transA && !transB:
		for p := 0; p < k; p++ {
			brow := b[p*ldb : p*ldb+n]
			for i := 0; i < m; i++ {
				if av := alpha * a[p*lda+i]; av != 0 {
					axpy(c[i*ldc:i*ldc+n], brow, av)
				}
			}
		}
	case !transA && transB:
		for i := 0; i < m; i++ {
			arow := a[i*lda : i*lda+k]
			crow := c[i*ldc : i*ldc+n]
			for j := range crow {
				crow[j] += alpha * dot(arow, b[j*ldb:j*ldb+k])
			}
		}
	default:
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float32
				for p := 0; p < k; p++ {
					s += a[p*lda+i] * b[j*ldb+p]
				}
				c[i*ldc+j] += alpha * s
			}
		}
	}
}

// axpy adds a·x to y (len(x) >= len(y)).
func axpy(y, x []float32, a float32) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] += a * v
	}
}

// dot returns Σ x[i]·y[i] with four partial sums (len(y) >= len(x)).
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
