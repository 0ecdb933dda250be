package linalg

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// TestRowsMatchGo compares every implementation of the row-broadcast routines with the
// Go definitions, over widths around the vector and block sizes (16, 32, 64 columns)
// and row counts around the unrolling (4 rows), with guards past both ends.
func TestRowsMatchGo(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	widths := []int{1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 63, 64, 65, 96, 100, 130, 1152}
	for _, impl := range rowsImpls() {
		for _, n := range widths {
			for _, rows := range []int{1, 2, 3, 4, 5, 7, 9} {
				row := randSlice(r, n)
				a := randSlice(r, rows*n)
				for name, fns := range map[string][2]func(dst, a, row []float32, rows int){
					"mulBroadcast": {impl.mulBroadcast, mulBroadcastGo},
					"addBroadcast": {impl.addBroadcast, addBroadcastGo},
				} {
					what := fmt.Sprintf("%s %s n=%d rows=%d", impl.name, name, n, rows)
					want := make([]float32, rows*n)
					fns[1](want, a, row, rows)
					g := newGuarded(r, rows*n)
					fns[0](g.data, a, row, rows)
					g.check(t, what)
					// In place: dst is a.
					inPlace := newGuarded(r, rows*n)
					copy(inPlace.data, a)
					fns[0](inPlace.data, inPlace.data, row, rows)
					inPlace.check(t, what+" in place")
					for i := range want {
						if g.data[i] != want[i] || inPlace.data[i] != want[i] {
							t.Fatalf("%s: [%d] = %v (in place %v), want %v", what, i, g.data[i], inPlace.data[i], want[i])
						}
					}
				}
				what := fmt.Sprintf("%s sumRows n=%d rows=%d", impl.name, n, rows)
				g := newGuarded(r, n)
				want := append([]float32(nil), g.data...)
				sumRowsGo(want, a, rows)
				impl.sumRows(g.data, a, rows)
				g.check(t, what)
				for j := range want {
					// The partial sums add in another order: allow float32 rounding of
					// the magnitudes summed.
					var mag float64
					for q := 0; q < rows; q++ {
						mag += math.Abs(float64(a[q*n+j]))
					}
					if d := math.Abs(float64(g.data[j] - want[j])); d > 1e-6*(mag+1) {
						t.Fatalf("%s: [%d] = %v, want %v", what, j, g.data[j], want[j])
					}
				}
			}
		}
	}
}

func TestRowsRefuseRaggedRows(t *testing.T) {
	for name, f := range map[string]func(){
		"MulBroadcast": func() { MulBroadcast(make([]float32, 10), make([]float32, 10), make([]float32, 3)) },
		"AddBroadcast": func() { AddBroadcast(make([]float32, 9), make([]float32, 8), make([]float32, 3)) },
		"SumRows":      func() { SumRows(make([]float32, 4), make([]float32, 10)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s accepted a ragged matrix", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkRows times a squeeze-and-excitation scale and its pool on EfficientNet-B0's
// largest such tensor (112×112 pixels of 32 channels) and a deep one (7×7×1152).
func BenchmarkRows(b *testing.B) {
	for _, s := range []struct{ rows, n int }{{112 * 112, 32}, {49, 1152}} {
		x := randSlice(rand.New(rand.NewSource(1)), s.rows*s.n)
		row := randSlice(rand.New(rand.NewSource(2)), s.n)
		dst := make([]float32, len(x))
		for _, impl := range rowsImpls() {
			b.Run(fmt.Sprintf("mul_%dx%d_%s", s.rows, s.n, impl.name), func(b *testing.B) {
				b.SetBytes(int64(8 * len(x)))
				for i := 0; i < b.N; i++ {
					impl.mulBroadcast(dst, x, row, s.rows)
				}
			})
			b.Run(fmt.Sprintf("sum_%dx%d_%s", s.rows, s.n, impl.name), func(b *testing.B) {
				b.SetBytes(int64(4 * len(x)))
				for i := 0; i < b.N; i++ {
					impl.sumRows(row, x, s.rows)
				}
			})
		}
	}
}
