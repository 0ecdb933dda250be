package linalg

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// vecInputs covers the exp range and beyond, zeros, and lengths around the vector widths.
func vecInputs(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch i % 5 {
		case 0:
			x[i] = float32(r.NormFloat64() * 3)
		case 1:
			x[i] = float32(r.NormFloat64() * 40)
		case 2:
			x[i] = float32(r.Float64()*400 - 200)
		default:
			x[i] = float32(r.Float64()*12 - 6)
		}
	}
	if n > 3 {
		x[0], x[1], x[2] = 0, float32(math.Copysign(0, -1)), 1e-8
	}
	return x
}

// TestVecReductions compares the reductions with float64 sums.
func TestVecReductions(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	for _, impl := range vecImpls() {
		for _, n := range []int{0, 1, 5, 16, 17, 64, 100, 1031} {
			x, y := randSlice(r, n), randSlice(r, n)
			var s, d float64
			m := float32(math.Inf(-1))
			for i := range x {
				s += float64(x[i])
				d += float64(x[i]) * float64(y[i])
				m = max(m, x[i])
			}
			tol := 1e-6 * float64(n+1)
			if got := impl.sum(x); math.Abs(float64(got)-s) > tol {
				t.Errorf("%s sum n=%d: %v, want %v", impl.name, n, got, s)
			}
			if got := impl.dot(x, y); math.Abs(float64(got)-d) > tol {
				t.Errorf("%s dot n=%d: %v, want %v", impl.name, n, got, d)
			}
			if n > 0 {
				if got := impl.max(x); got != m {
					t.Errorf("%s max n=%d: %v, want %v", impl.name, n, got, m)
				}
			}
		}
	}
}

// TestVecMatchesGo compares every implementation with the Go definitions, with guards
// past the end of each slice.
func TestVecMatchesGo(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, impl := range vecImpls() {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 33, 100, 1027} {
			src := vecInputs(r, n)
			other := vecInputs(r, n)
			// Four rows of B, ldb apart, for addScaled4 (from their own source, so that
			// the other inputs stay those the tolerances were set on).
			ldb := n + 3
			rows4 := vecInputs(rand.New(rand.NewSource(int64(n))), 3*ldb+n)
			s4 := [4]float32{0.5, -1.25, 2, -0.75}
			unary := map[string][2]func([]float32){
				"sigmoid":   {impl.sigmoid, sigmoidGo},
				"silu":      {impl.silu, siluGo},
				"hardswish": {impl.hardSwish, hardSwishGo},
				"gelu":      {impl.gelu, geluGo},
				"exp":       {func(x []float32) { impl.exp(x) }, func(x []float32) { expGo(x) }},
				"addScalar": {func(x []float32) { impl.addScalar(x, x, -0.75) }, func(x []float32) { addScalarGo(x, x, -0.75) }},
				"mulScalar": {func(x []float32) { impl.mulScalar(x, x, 1.5) }, func(x []float32) { mulScalarGo(x, x, 1.5) }},
				"clamp": {func(x []float32) { impl.clamp(x, -0.5, 2) },
					func(x []float32) { clampGo(x, -0.5, 2) }},
				"addTo": {func(x []float32) { impl.addTo(x, other) }, func(x []float32) { addToGo(x, other) }},
				"maxTo": {func(x []float32) { impl.maxTo(x, other) }, func(x []float32) { maxToGo(x, other) }},
				"mulTo": {func(x []float32) { impl.mulTo(x, other) }, func(x []float32) { mulToGo(x, other) }},
				"addScaled": {func(x []float32) { impl.addScaled(x, other, -0.75) },
					func(x []float32) { addScaledGo(x, other, -0.75) }},
				"addScaled4": {func(x []float32) { impl.addScaled4(x, rows4, ldb, &s4) },
					func(x []float32) { addScaled4Go(x, rows4, ldb, &s4) }},
			}
			for name, fns := range unary {
				g := newGuarded(r, n)
				copy(g.data, src)
				fns[0](g.data)
				want := append([]float32(nil), src...)
				fns[1](want)
				what := fmt.Sprintf("%s %s n=%d", impl.name, name, n)
				g.check(t, what)
				for i := range want {
					// Within 1e-6 relative (a few float32 ulp: HardSwish rounds x/6 + 1/2 once
					// more than its definition); results below 1e-30 (exp clamped) may differ.
					tol := max(1e-6*float32(math.Abs(float64(want[i]))), 1e-30)
					if name == "addScaled" {
						// The vector versions round the product and sum once, the Go loop
						// twice: apart by up to an ulp of the product, whatever the sum.
						tol = max(tol, 2e-7*0.75*float32(math.Abs(float64(other[i]))))
					}
					if name == "addScaled4" {
						var terms float64
						for row, sc := range s4 {
							terms += math.Abs(float64(sc * rows4[row*ldb+i]))
						}
						tol = max(tol, float32(4e-7*(terms+math.Abs(float64(src[i])))))
					}
					if name == "gelu" {
						// erf's approximation has an absolute error bound: so has the result,
						// relative to x (GELU's tail values are tiny and only absolutely close).
						tol = max(tol, 1e-7*max(1, float32(math.Abs(float64(src[i])))))
					}
					if d := math.Abs(float64(g.data[i] - want[i])); d > float64(tol) || math.IsNaN(float64(g.data[i])) {
						t.Fatalf("%s: f(%v) = %v, want %v", what, src[i], g.data[i], want[i])
					}
				}
			}
		}
	}
}

func BenchmarkSiLU(b *testing.B) {
	x := vecInputs(rand.New(rand.NewSource(1)), 1<<16)
	for _, impl := range vecImpls() {
		b.Run(impl.name, func(b *testing.B) {
			buf := make([]float32, len(x))
			for i := 0; i < b.N; i++ {
				copy(buf, x)
				impl.silu(buf)
			}
			b.SetBytes(int64(4 * len(x)))
		})
	}
}
