package linalg

import "fmt"

// GemvMaxRows is the most rows of A for which MulUnpacked is meant: with so few rows
// every element of B is used that many times, so a product is bound by reading B, and
// packing B (a copy of it, see PackedB) saves little: about a quarter of the time with
// 128 MiB of B at one row (BenchmarkGemv).
const GemvMaxRows = smallM - 1

// gemvChunk is how many columns of C one job computes: its rows of sums stay in L1 while
// the job streams the matching strip of every row of B.
const gemvChunk = 2048

// MulUnpacked computes rows [0, m) of C = A·op(B) under the epilogue (Done aside), reading
// B where it lies: op(B) is k×n, B is n×k when transB, ldb its row stride; rows of A have
// stride lda, rows of C stride ldc. It is meant for a handful of rows (GemvMaxRows) times
// a large constant B that is not worth a packed copy; it is correct for any m. Columns
// are split over up to threads goroutines, each column summed over p in order, so the
// result does not depend on threads.
func MulUnpacked(threads, m, k, n int, a []float32, lda int, transB bool, b []float32, ldb int, c []float32, ldc int, ep *Epilogue) {
	if m <= 0 || n <= 0 {
		return
	}
	checkMatrix("A", a, 0, m, k, lda)
	checkMatrix("C", c, 0, m, n, ldc)
	if ep != nil && ep.Bias != nil && len(ep.Bias) < n {
		panic(fmt.Sprintf("linalg: MulUnpacked: %d bias values for %d columns", len(ep.Bias), n))
	}
	if ep != nil && ep.Z != nil {
		checkMatrix("Z", ep.Z, ep.ZOff, m, n, ep.LDZ)
	}
	if transB {
		checkMatrix("B", b, 0, n, k, ldb)
	} else {
		checkMatrix("B", b, 0, k, n, ldb)
	}
	if m*n*k < gemmParallelMACs {
		threads = 1
	}
	size, jobs := Chunks(n, max(n/gemvChunk, 4*threads), 16)
	For(threads, jobs, func(job int) {
		j0, j1 := job*size, min(n, (job+1)*size)
		w := j1 - j0
		sums := GetFloat32(m * w)
		defer sums.Release()
		s := sums.Buf[:m*w]
		if transB {
			// Row j of B is column j of op(B): each sum is one dot product.
			for i := 0; i < m; i++ {
				ai := a[i*lda : i*lda+k]
				for j := j0; j < j1; j++ {
					s[i*w+j-j0] = Dot(ai, b[j*ldb:j*ldb+k])
				}
			}
		} else {
			// Rows of B stream past the rows of sums, four at a time (the sums are read
			// and written once per four rows): row p adds a[i][p]·B[p][j0:j1].
			clear(s)
			var sc [4]float32
			p := 0
			for ; p+4 <= k; p += 4 {
				b4 := b[p*ldb+j0:]
				for i := 0; i < m; i++ {
					copy(sc[:], a[i*lda+p:i*lda+p+4])
					AddScaled4(s[i*w:(i+1)*w], b4, ldb, &sc)
				}
			}
			for ; p < k; p++ {
				brow := b[p*ldb+j0 : p*ldb+j1]
				for i := 0; i < m; i++ {
					AddScaled(s[i*w:(i+1)*w], brow, a[i*lda+p])
				}
			}
		}
		for i := 0; i < m; i++ {
			applyEpilogue(s[i*w:(i+1)*w], c[i*ldc+j0:i*ldc+j1], ep, i, j0)
		}
	})
}
