package linalg

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"
	"time"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// guarded is a buffer of n elements surrounded by guard regions filled with a sentinel, so
// that a test can check that a routine wrote nothing outside the elements it owns.
type guarded struct {
	all  []float32
	data []float32
}

const guardLen = 19

var sentinel = float32(math.Inf(-1))

func newGuarded(r *rand.Rand, n int) guarded {
	all := make([]float32, guardLen+n+guardLen)
	for i := range all {
		all[i] = sentinel
	}
	g := guarded{all: all, data: all[guardLen : guardLen+n : guardLen+n]}
	copy(g.data, randSlice(r, n))
	return g
}

func (g guarded) check(t *testing.T, what string) {
	t.Helper()
	for i := 0; i < guardLen; i++ {
		if g.all[i] != sentinel || g.all[len(g.all)-1-i] != sentinel {
			t.Fatalf("%s: guard region overwritten", what)
		}
	}
}

// gemmCase is one product shape with its strides; the padding between rows (ld > width)
// is checked to stay untouched in C.
type gemmCase struct {
	m, n, k        int
	transA, transB bool
	alpha, beta    float32
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("m%d_n%d_k%d_tA%v_tB%v_a%v_b%v", tc.m, tc.n, tc.k, tc.transA, tc.transB, tc.alpha, tc.beta)
}

func gemmCases() []gemmCase {
	// Sizes straddle every kernel's tile (3×4, 6×16) and the blocking (72, 256), include
	// empty and degenerate products, and are mostly odd.
	sizes := [][3]int{{0, 5, 3}, {4, 0, 3}, {3, 5, 0}, {1, 1, 1}, {3, 5, 7}, {4, 8, 16}, {6, 16, 1},
		{17, 9, 33}, {65, 67, 300}, {130, 70, 257}, {5, 300, 600}, {200, 3, 40}, {73, 33, 513},
		{30, 520, 260}} // B over half of L2, few rows: split by panels
	var cases []gemmCase
	for _, sz := range sizes {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}, {0, 0.5}} {
				cases = append(cases, gemmCase{sz[0], sz[1], sz[2], tr[0], tr[1], ab[0], ab[1]})
			}
		}
	}
	return cases
}

// runGemmCase checks gemm (any implementation with Sgemm's contract) against SgemmRef.
func runGemmCase(t *testing.T, r *rand.Rand, tc gemmCase, gemm func(a []float32, lda int, b []float32, ldb int, c []float32, ldc int)) {
	t.Helper()
	m, n, k := tc.m, tc.n, tc.k
	lda, ldb, ldc := k+3, n+1, n+2
	arows, brows := m, k
	if tc.transA {
		lda, arows = m+3, k
	}
	if tc.transB {
		ldb, brows = k+1, n
	}
	a := newGuarded(r, arows*lda)
	b := newGuarded(r, brows*ldb)
	c := newGuarded(r, m*ldc)
	if tc.beta == 0 && len(c.data) > 0 {
		c.data[0] = float32(math.NaN()) // beta == 0 must not read C
	}
	want := append([]float32(nil), c.data...)
	SgemmRef(tc.transA, tc.transB, m, n, k, tc.alpha, a.data, lda, b.data, ldb, tc.beta, want, ldc)
	aCopy, bCopy := append([]float32(nil), a.data...), append([]float32(nil), b.data...)
	gemm(a.data, lda, b.data, ldb, c.data, ldc)
	for _, g := range []guarded{a, b, c} {
		g.check(t, tc.String())
	}
	if !slices.Equal(aCopy, a.data) || !slices.Equal(bCopy, b.data) {
		t.Fatalf("%v: A or B modified", tc)
	}
	checkClose(t, tc.String(), c.data, want, 1e-5*float64(k+1))
}

// TestSgemmMatchesReference runs every micro-kernel this machine supports, and the
// packed-A path, on every case, single- and multi-threaded.
func TestSgemmMatchesReference(t *testing.T) {
	for _, kern := range tileKernels() {
		for _, threads := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/threads%d", kern.name, threads), func(t *testing.T) {
				r := rand.New(rand.NewSource(1))
				for _, tc := range gemmCases() {
					runGemmCase(t, r, tc, func(a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
						sgemmWith(kern, threads, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
					})
					if kern == defaultTileKernel {
						runGemmCase(t, r, tc, func(a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
							pa := PackA(tc.transA, tc.m, tc.k, a, lda)
							SgemmPackedA(threads, pa, tc.transB, tc.n, tc.alpha, b, ldb, tc.beta, c, ldc)
						})
					}
				}
			})
		}
	}
}

func checkClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if math.Abs(g-w) > tol*(1+math.Abs(w)) || math.IsNaN(g) != math.IsNaN(w) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, g, w)
		}
	}
}

// benchmarkSgemm times C = A·B for n×n matrices and reports the best run's GFLOP/s (a
// loaded machine only ever adds time), and that as a share of the vector unit's
// multiply-add peak measured in the same process (per thread).
func benchmarkSgemm(b *testing.B, threads, n int) {
	r := rand.New(rand.NewSource(1))
	x, y, z := randSlice(r, n*n), randSlice(r, n*n), make([]float32, n*n)
	Sgemm(threads, false, false, n, n, n, 1, x, n, y, n, 0, z, n)
	peak, _ := FMAPeak(100 * time.Millisecond)
	b.ResetTimer()
	best := time.Duration(1 << 62)
	for i := 0; i < b.N; i++ {
		start := time.Now()
		Sgemm(threads, false, false, n, n, n, 1, x, n, y, n, 0, z, n)
		best = min(best, time.Since(start))
	}
	gflops := 2 * float64(n*n*n) / best.Seconds() / 1e9
	b.ReportMetric(gflops, "GFLOP/s")
	if peak > 0 {
		b.ReportMetric(100*gflops/(peak*float64(threads)), "%peak")
	}
}

// BenchmarkFMAPeak reports the vector unit's multiply-add peak, the yardstick of the
// GEMM benchmarks (their GFLOP/s divided by this is their efficiency).
func BenchmarkFMAPeak(b *testing.B) {
	for i := 0; i < b.N; i++ {
		gf, unit := FMAPeak(200 * time.Millisecond)
		b.ReportMetric(gf, unit+"-GFLOP/s")
	}
}

func BenchmarkSgemm512(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads%d", threads), func(b *testing.B) { benchmarkSgemm(b, threads, 512) })
	}
}
