package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// TestSgemmMatchesReference compares the blocked GEMM with the reference loop over sizes
// that are not multiples of the tile or block sizes, every transpose combination, padded
// leading dimensions and the alpha/beta special cases.
func TestSgemmMatchesReference(t *testing.T) {
	// Every micro-kernel this machine can run is checked, not only the one dispatch picks.
	for _, k := range microKernels() {
		t.Run(k.name, func(t *testing.T) {
			defer useMicroKernel(k)()
			testSgemmMatchesReference(t)
		})
	}
}

func testSgemmMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	sizes := [][3]int{{1, 1, 1}, {3, 5, 7}, {4, 8, 16}, {17, 9, 33}, {65, 67, 300}, {130, 70, 257}, {5, 300, 600}, {200, 3, 40}}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
				name := fmt.Sprintf("m%d_n%d_k%d_tA%v_tB%v_a%v_b%v", m, n, k, tr[0], tr[1], ab[0], ab[1])
				t.Run(name, func(t *testing.T) {
					lda, ldb, ldc := k+3, n+1, n+2
					if tr[0] {
						lda = m + 3
					}
					if tr[1] {
						ldb = k + 1
					}
					arows, brows := m, k
					if tr[0] {
						arows = k
					}
					if tr[1] {
						brows = n
					}
					a := randSlice(r, arows*lda)
					b := randSlice(r, brows*ldb)
					c := randSlice(r, m*ldc)
					if ab[1] == 0 {
						c[0] = float32(math.NaN()) // beta == 0 must not read C
					}
					want := append([]float32(nil), c...)
					sgemmRef(tr[0], tr[1], m, n, k, ab[0], a, lda, b, ldb, ab[1], want, ldc)
					got := append([]float32(nil), c...)
					sgemm(tr[0], tr[1], m, n, k, ab[0], a, lda, b, ldb, ab[1], got, ldc)
					checkClose(t, got, want, 1e-4*float64(k+1))
					if !tr[0] {
						got2 := append([]float32(nil), c...)
						pa := packMatrixA(false, m, k, a, lda)
						sgemmPacked(pa, tr[1], n, ab[0], b, ldb, ab[1], got2, ldc)
						checkClose(t, got2, want, 1e-4*float64(k+1))
					}
				})
			}
		}
	}
}

// TestMicroKernelGuards runs each micro-kernel on a tile embedded in a larger buffer and
// requires every element outside the tile to stay untouched.
func TestMicroKernelGuards(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, k := range microKernels() {
		for _, kc := range []int{1, 2, 7, 256} {
			a := randSlice(r, k.mr*kc)
			b := randSlice(r, k.nr*kc)
			const guard = 17
			ldc := k.nr + 5
			buf := randSlice(r, guard+k.mr*ldc+guard)
			orig := append([]float32(nil), buf...)
			k.fn(kc, 0.75, a, b, buf[guard:], ldc)
			for i := range buf {
				row, col := (i-guard)/ldc, (i-guard)%ldc
				inTile := i >= guard && row < k.mr && col < k.nr
				if !inTile {
					if buf[i] != orig[i] {
						t.Fatalf("%s kc=%d: element %d outside the tile changed", k.name, kc, i)
					}
					continue
				}
				want := float64(orig[i])
				acc := 0.0
				for p := 0; p < kc; p++ {
					acc += float64(a[p*k.mr+row]) * float64(b[p*k.nr+col])
				}
				want += 0.75 * acc
				if math.Abs(float64(buf[i])-want) > 1e-4*float64(kc+1) {
					t.Fatalf("%s kc=%d: C[%d][%d] = %v, want %v", k.name, kc, row, col, buf[i], want)
				}
			}
		}
	}
}

func checkClose(t *testing.T, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("len %d, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if math.Abs(g-w) > tol*(1+math.Abs(w)) || math.IsNaN(g) != math.IsNaN(w) {
			t.Fatalf("element %d = %v, want %v", i, g, w)
		}
	}
}

func BenchmarkMatMul512(b *testing.B) {
	const n = 512
	r := rand.New(rand.NewSource(1))
	x, y, z := randSlice(r, n*n), randSlice(r, n*n), make([]float32, n*n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sgemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
	}
	b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
