package linalg

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// TestMulUnpackedMatchesReference compares MulUnpacked with the float64 definition over
// both layouts of B, row counts up to past GemvMaxRows, column counts around a vector's
// width and past one job's chunk, strided A, B and C, every epilogue, one and two threads
// (which must agree bit for bit), with guard regions around every matrix.
func TestMulUnpackedMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for _, transB := range []bool{false, true} {
		for _, m := range []int{1, 2, 3, 5} {
			for _, n := range []int{1, 7, 16, 33, gemvChunk + 5} {
				for _, k := range []int{1, 9, 64} {
					for variant := range 5 {
						name := fmt.Sprintf("transB=%v m%d n%d k%d variant%d", transB, m, n, k, variant)
						testMulUnpacked(t, r, name, transB, m, n, k, variant)
					}
				}
			}
		}
		// Past gemmParallelMACs, so that two threads do split the columns.
		testMulUnpacked(t, r, fmt.Sprintf("transB=%v large", transB), transB, 2, 2*gemvChunk+5, 600, 3)
	}
}

func testMulUnpacked(t *testing.T, r *rand.Rand, name string, transB bool, m, n, k, variant int) {
	t.Helper()
	lda, ldc := k+2, n+3
	ldb := n + 1
	bRows := k
	if transB {
		ldb, bRows = k+1, n
	}
	a := newGuarded(r, (m-1)*lda+k)
	b := newGuarded(r, (bRows-1)*ldb+ldb-1)
	bAt := func(p, j int) float32 { return b.data[p*ldb+j] }
	if transB {
		bAt = func(p, j int) float32 { return b.data[j*ldb+p] }
	}
	c := newGuarded(r, (m-1)*ldc+n)
	ep := testEpilogue(r, variant, m, n)
	orig := slices.Clone(c.data)
	want := slices.Clone(c.data)
	mulRowsRef(m, k, n, a.data, RowsOf{LD: lda, KC: k}, bAt, want, 0, ldc, 0, n, ep)
	var one []float32
	for _, threads := range []int{1, 2} {
		copy(c.data, orig)
		MulUnpacked(threads, m, k, n, a.data, lda, transB, b.data, ldb, c.data, ldc, ep)
		what := fmt.Sprintf("%s threads%d", name, threads)
		a.check(t, what)
		b.check(t, what)
		c.check(t, what)
		checkClose(t, what, c.data, want, 1e-5*float64(k+1))
		if one == nil {
			one = slices.Clone(c.data)
		} else if !slices.Equal(one, c.data) {
			t.Errorf("%s: differs from one thread's result", what)
		}
	}
}

// TestMulUnpackedRefusesShortMatrices: a B, A or C too short for its shape is a panic
// naming it (the kernel guard turns it into an error), never a read past the end.
func TestMulUnpackedRefusesShortMatrices(t *testing.T) {
	a, b, c := make([]float32, 4), make([]float32, 4*3), make([]float32, 3)
	for _, tt := range []struct {
		name    string
		a, b, c []float32
	}{
		{"A", a[:3], b, c},
		{"B", a, b[:11], c},
		{"C", a, b, c[:2]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("no panic for a short %s", tt.name)
				}
			}()
			MulUnpacked(1, 1, 4, 3, tt.a, 4, false, tt.b, 3, tt.c, 3, nil)
		})
	}
}
