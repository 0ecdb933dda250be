package linalg

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// requantRef is QRequant's definition: the product rounded to float32, then half to even,
// then the zero point, then saturation.
func requantRef(v int32, scale float32, zp, lo, hi int32) uint8 {
	p := float32(v) * scale
	f := math.RoundToEven(float64(p)) + float64(zp)
	f = math.Min(math.Max(f, float64(lo)), float64(hi))
	return uint8(int32(f))
}

// TestQRequantRows compares every requantization routine the machine runs with the
// reference on row lengths around the vector widths, ties (x.5 values), int32 extremes,
// int8 and uint8 ranges and a narrowed (Relu-like) range, with guard bytes around y.
func TestQRequantRows(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, variant := range requantVariants() {
		t.Run(variant, func(t *testing.T) {
			defer func(v string) { useRequant = v }(useRequant)
			useRequant = variant
			for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100} {
				for _, rng := range [][3]int32{{0, 255, 128}, {-128, 127, 0}, {-128, 127, -7}, {40, 255, 40}, {0, 6, 0}} {
					lo, hi, zp := rng[0], rng[1], rng[2]
					scales := make([]float32, n)
					for j := range scales {
						scales[j] = float32(math.Ldexp(r.Float64()+0.5, -r.Intn(12)))
					}
					scales[0] = 0.5 // with even and odd accumulators: ties both ways
					const rows, ldc, ldy, guard = 3, 105, 111, 9
					c := make([]int32, rows*ldc)
					for i := range c {
						switch r.Intn(5) {
						case 0:
							c[i] = int32(r.Uint32())
						case 1:
							c[i] = []int32{math.MaxInt32, math.MinInt32, 0, 1, -1, 3, -3}[r.Intn(7)]
						default:
							c[i] = int32(r.Intn(20001) - 10000)
						}
					}
					q, err := NewQRequant(n, scales, zp, lo, hi)
					if err != nil {
						t.Fatal(err)
					}
					y := make([]uint8, guard+rows*ldy+guard)
					for i := range y {
						y[i] = 0xa5
					}
					q.Rows(rows, c, ldc, y[guard:], ldy)
					for i, got := range y {
						row, col := (i-guard)/ldy, (i-guard)%ldy
						if i < guard || row >= rows || col >= n {
							if got != 0xa5 {
								t.Fatalf("n=%d: byte %d outside the output changed", n, i)
							}
							continue
						}
						want := requantRef(c[row*ldc+col], scales[col], zp, lo, hi)
						if got != want {
							t.Fatalf("%s", fmt.Sprintf("n=%d range %v: y[%d][%d] from %d·%g = %d, want %d", n, rng, row, col, c[row*ldc+col], scales[col], got, want))
						}
					}
				}
			}
		})
	}
}

// TestRoundHalfEven: the add-and-subtract rounding equals math.RoundToEven on ties of
// both parities, values next to halves, magnitudes around 2^52, zeros and non-finite
// values.
func TestRoundHalfEven(t *testing.T) {
	for _, x := range []float64{0, math.Copysign(0, -1), 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994,
		-0.49999999999999994, 3.4999, 1 << 52, 1<<52 + 1, -(1 << 52), 1<<52 - 0.5, -(1<<52 - 0.5), 1 << 62, -(1 << 62),
		2147483647.5, -2147483648.5, math.Inf(1), math.Inf(-1), math.MaxFloat64} {
		if got, want := roundHalfEven(x), math.RoundToEven(x); got != want {
			t.Errorf("roundHalfEven(%v) = %v, want %v", x, got, want)
		}
	}
	if !math.IsNaN(roundHalfEven(math.NaN())) {
		t.Error("roundHalfEven(NaN) is not NaN")
	}
}
