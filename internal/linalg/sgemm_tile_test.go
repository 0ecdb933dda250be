package linalg

import (
	"fmt"
	"math"
	"math/rand"
	"sync"
	"testing"
)

// mulRowsRef is the definition MulRows is tested against, in float64.
func mulRowsRef(m, k, n int, a []float32, rows RowsOf, bAt func(p, j int) float32, c []float32, cOff, ldc, j0, j1 int, ep *Epilogue) {
	taps := rows.Taps
	if taps == nil {
		taps = []int{0}
	}
	for i := 0; i < m; i++ {
		for j := j0; j < j1; j++ {
			var s float64
			for t, off := range taps {
				for p := 0; p < rows.KC; p++ {
					s += float64(a[rows.Off+i*rows.LD+off+p]) * float64(bAt(t*rows.KC+p, j))
				}
			}
			v := float32(s)
			if ep.Alpha != 0 {
				v *= ep.Alpha
			}
			if ep.Accumulate {
				v += c[cOff+i*ldc+j]
			}
			if ep.Bias != nil {
				v += ep.Bias[j]
			}
			if ep.Z != nil {
				v += ep.Z[ep.ZOff+i*ep.LDZ+j]
			}
			if ep.Clamp {
				v = min(max(v, ep.Lo), ep.Hi)
			}
			c[cOff+i*ldc+j] = v
		}
	}
}

// TestMulRowsMatchesReference runs every tile kernel the machine supports over row counts
// around every kernel's tile height, panel widths with partial last vectors, one or
// several taps, and each epilogue, with guard regions around A, C and Z.
func TestMulRowsMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, kern := range tileKernels() {
		t.Run(kern.name, func(t *testing.T) {
			for _, n := range []int{1, 5, 8, 13, 16, 17, 24, 31, 32, 33, 40, 64, 70} {
				for _, m := range []int{1, 3, 4, 6, 7, 13, 14, 15, 29} {
					for _, shape := range []struct{ taps, kc int }{{1, 1}, {1, 7}, {3, 5}, {9, 4}} {
						for e := 0; e < 6; e++ {
							testMulRows(t, r, kern, m, n, shape.taps, shape.kc, e)
						}
					}
				}
			}
		})
	}
}

func testMulRows(t *testing.T, r *rand.Rand, kern *tileKernel, m, n, ntaps, kc, variant int) {
	t.Helper()
	k := ntaps * kc
	// Rows of A are ld apart; taps are spread over a row of length ntaps·(kc+2).
	taps := make([]int, ntaps)
	for i := range taps {
		taps[i] = i * (kc + 2)
	}
	ld := ntaps*(kc+2) + 3
	rows := RowsOf{Off: 2, LD: ld, Taps: taps, KC: kc}
	if ntaps == 1 && variant%2 == 0 {
		rows.Taps = nil
	}
	a := newGuarded(r, rows.Off+m*ld)
	bm := randSlice(r, k*n)
	bAt := func(p, j int) float32 { return bm[p*n+j] }
	pb := packBWith(kern, k, n, bAt)
	ldc := n + 3
	c := newGuarded(r, 1+m*ldc)
	ep := testEpilogue(r, variant, m, n)
	want := append([]float32(nil), c.data...)
	// Two panel ranges: all panels at once, then each separately into another copy.
	mulRowsRef(m, k, n, a.data, rows, bAt, want, 1, ldc, 0, n, ep)
	got := append([]float32(nil), c.data...)
	pb.MulRows(m, a.data, rows, c.data, 1, ldc, 0, pb.Panels(), ep)
	name := fmt.Sprintf("%s m%d n%d taps%d kc%d variant%d", kern.name, m, n, ntaps, kc, variant)
	a.check(t, name)
	c.check(t, name)
	checkClose(t, name, c.data, want, 1e-5*float64(k+1))
	copy(c.data, got)
	for p := pb.Panels() - 1; p >= 0; p-- {
		pb.MulRows(m, a.data, rows, c.data, 1, ldc, p, p+1, ep)
	}
	checkClose(t, name+" by panel", c.data, want, 1e-5*float64(k+1))
}

// TestMulDoneCoversEveryBlockOnce: with an Epilogue.Done, PackedB.Mul reports blocks that
// together cover C exactly once, each after its values are final (Done doubles them here,
// so a block reported early or twice shows), single- and multi-threaded, with a residual.
func TestMulDoneCoversEveryBlockOnce(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	// The last two have a B larger than half of L2 and fewer rows than columns: Mul
	// splits them by panels.
	for _, sh := range [][3]int{{1, 7, 5}, {50, 33, 16}, {700, 96, 24}, {3000, 40, 8}, {49, 1152, 192}, {30, 700, 300}} {
		m, n, k := sh[0], sh[1], sh[2]
		for _, threads := range []int{1, 2, 3} {
			a, b, z := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
			pb := PackB(false, k, n, b, n)
			want := make([]float32, m*n)
			mulRowsRef(m, k, n, a, RowsOf{LD: k, KC: k}, func(p, j int) float32 { return b[p*n+j] }, want, 0, n, 0, n,
				&Epilogue{Z: z, LDZ: n})
			for i := range want {
				want[i] *= 2
			}
			c := make([]float32, m*n)
			seen := make([]int32, m*n)
			var mu sync.Mutex
			ep := &Epilogue{Z: z, LDZ: n, Done: func(i0, i1, j0, j1 int) {
				mu.Lock()
				defer mu.Unlock()
				for i := i0; i < i1; i++ {
					for j := j0; j < j1; j++ {
						seen[i*n+j]++
						c[i*n+j] *= 2
					}
				}
			}}
			pb.Mul(threads, m, a, RowsOf{LD: k, KC: k}, c, n, ep)
			what := fmt.Sprintf("%dx%dx%d threads%d", m, n, k, threads)
			for i, s := range seen {
				if s != 1 {
					t.Fatalf("%s: element %d reported %d times", what, i, s)
				}
			}
			checkClose(t, what, c, want, 1e-5*float64(k+1))
		}
	}
}

// testEpilogue returns the epilogue of a test variant for an m×n product: 0 plain, 1 scaled
// accumulation, 2 bias and Relu, 3 residual and Clip, 4 bias, residual and accumulation.
func testEpilogue(r *rand.Rand, variant, m, n int) *Epilogue {
	ep := &Epilogue{}
	switch variant {
	case 1:
		ep.Alpha, ep.Accumulate = -0.5, true
	case 2:
		ep.Bias = randSlice(r, n)
		ep.Clamp, ep.Lo, ep.Hi = true, 0, float32(math.Inf(1))
	case 3:
		ep.Z, ep.ZOff, ep.LDZ = randSlice(r, 2+m*(n+1)), 2, n+1
		ep.Clamp, ep.Lo, ep.Hi = true, -0.1, 0.3
	case 4:
		ep.Bias = randSlice(r, n)
		ep.Z, ep.ZOff, ep.LDZ = randSlice(r, m*n), 0, n
		ep.Accumulate, ep.Alpha = true, 2
	}
	return ep
}
