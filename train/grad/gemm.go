package grad

import "github.com/whittle-ml/whittle/internal/linalg"

// sgemm is the backward products' GEMM: the same packed float GEMM (AVX2/AVX-512
// micro-kernels) the runtime's forward Conv, Gemm and MatMul run on, splitting large
// products over up to threads goroutines. See linalg.Sgemm for the argument conventions.
func sgemm(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	linalg.Sgemm(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// axpy adds a·x to y (len(x) >= len(y)).
func axpy(y, x []float32, a float32) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] += a * v
	}
}
