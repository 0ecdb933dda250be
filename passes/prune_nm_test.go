package passes

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func nmOpts(n, m int) PruneOptions {
	o := DefaultPruneOptions()
	o.Pattern, o.N, o.M, o.Sparsity = PatternNM, n, m, 1-float64(n)/float64(m)
	return o
}

func TestPruneNMExactMasks(t *testing.T) {
	// Conv W[1, 4, 1, 2]: groups run along the 4 input channels for each kernel position x,
	// i.e. over elements {0,2,4,6} (x=0) and {1,3,5,7} (x=1).
	conv := newBuilder(t, 17).Input("X", ir.Float, 1, 4, 3, 3).
		Floats("W", []int64{1, 4, 1, 2}, 0.9, 0.1, -0.2, 0.8, 0.3, -0.7, -0.1, 0.2).
		Node("Conv", "X,W", "Y").Output("Y").Model()
	mustPrune(t, conv, nmOpts(2, 4))
	// x=0: 0.9 -0.2 0.3 -0.1 keeps 0.9, 0.3; x=1: 0.1 0.8 -0.7 0.2 keeps 0.8, -0.7.
	if got := zeroPattern(floatsOf(t, conv.Graph.Lookup("W"))); got != "10011100" {
		t.Errorf("conv 2:4 mask %s, want 10011100", got)
	}

	// Gemm B[4, 2] (transB=0): groups along K (rows) for each output column.
	gemm := newBuilder(t, 17).Input("X", ir.Float, 1, 4).
		Floats("B", []int64{4, 2}, 0.1, 4, 0.2, 3, 0.3, 2, 0.4, 1).
		Node("Gemm", "X,B", "Y").Output("Y").Model()
	mustPrune(t, gemm, nmOpts(1, 4))
	if got := zeroPattern(floatsOf(t, gemm.Graph.Lookup("B"))); got != "01000010" {
		t.Errorf("gemm 1:4 mask %s, want 01000010", got)
	}
	// transB=1: B[2, 4], groups along axis 1; of equal magnitudes the earlier goes first.
	gemmT := newBuilder(t, 17).Input("X", ir.Float, 1, 4).
		Floats("B", []int64{2, 4}, 0.5, -0.5, 0.5, 0.1, 1, 2, 3, 4).
		Node("Gemm", "X,B", "Y", ir.IntAttr("transB", 1)).Output("Y").Model()
	mustPrune(t, gemmT, nmOpts(2, 4))
	if got := zeroPattern(floatsOf(t, gemmT.Graph.Lookup("B"))); got != "01100011" {
		t.Errorf("gemm transB 2:4 mask %s, want 01100011", got)
	}
}

func TestPruneNMGroupInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	w := make([]float32, 8*12*3*3)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	m := newBuilder(t, 17).Input("X", ir.Float, 1, 12, 5, 5).Floats("W", []int64{8, 12, 3, 3}, w...).
		Node("Conv", "X,W", "Y").Output("Y").Model()
	rep := mustPrune(t, m, nmOpts(2, 4))
	got := floatsOf(t, m.Graph.Lookup("W"))
	for o := 0; o < 8; o++ {
		for k := 0; k < 9; k++ {
			for c0 := 0; c0 < 12; c0 += 4 {
				nz := 0
				kept := map[int]bool{}
				for c := c0; c < c0+4; c++ {
					if got[(o*12+c)*9+k] != 0 {
						nz++
						kept[c] = true
					}
				}
				if nz != 2 {
					t.Fatalf("group o=%d k=%d c=%d..%d has %d nonzeros", o, k, c0, c0+3, nz)
				}
				// The kept two are the largest magnitudes of the group.
				for c := c0; c < c0+4; c++ {
					for d := c0; d < c0+4; d++ {
						if kept[c] && !kept[d] && abs32(w[(o*12+c)*9+k]) < abs32(w[(o*12+d)*9+k]) {
							t.Fatalf("group o=%d k=%d keeps a smaller weight", o, k)
						}
					}
				}
			}
		}
	}
	if rep.Layers[0].SparsityAfter != 0.5 {
		t.Errorf("conv sparsity %v, want 0.5", rep.Layers[0].SparsityAfter)
	}
}

func TestPruneNMSkipsIndivisibleLayers(t *testing.T) {
	m := newBuilder(t, 17).Input("X", ir.Float, 1, 6, 5, 5).Floats("W", []int64{2, 6, 1, 1}, ones(12)...).
		Node("Conv", "X,W", "Y").Output("Y").Model()
	rep := mustPrune(t, m, nmOpts(2, 4))
	if rep.Changed {
		t.Errorf("a layer with 6 input channels was pruned 2:4")
	}
	if len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Reason, "not a multiple of 4") {
		t.Errorf("skip not reported: %+v", rep.Skipped)
	}
}

func ones(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// nmRaw32, the in-place float32 path, zeroes exactly what nmMask and applyMask do.
func TestNMRaw32MatchesNMMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 300 {
		m := []int{2, 4, 8}[rng.IntN(3)]
		n := rng.IntN(m + 1)
		dims := []int64{int64(1 + rng.IntN(3)), int64(m * (1 + rng.IntN(3))), int64(1 + rng.IntN(3))}
		axis := 1
		if rng.IntN(2) == 0 {
			dims[0], dims[1] = dims[1], dims[0]
			axis = 0
		}
		size := int(dims[0] * dims[1] * dims[2])
		xs := make([]float32, size)
		for i := range xs {
			switch rng.IntN(4) {
			case 0:
				xs[i] = float32(rng.IntN(3)) - 1 // ties and zeros
			case 1:
				xs[i] = float32(math.Copysign(0, -1))
			default:
				xs[i] = float32(rng.NormFloat64())
			}
		}
		w := make([]float64, size)
		for i, x := range xs {
			w[i] = float64(x)
		}
		mask := nmMask(w, dims, axis, n, m)
		want := slices.Clone(w)
		changed := false
		for i, d := range mask {
			if d && want[i] != 0 {
				want[i], changed = 0, true
			}
		}
		raw := ir.FromFloat32("w", dims, xs).Raw
		orig := slices.Clone(raw)
		inPlace := trial%2 == 1
		out, err := nmRaw32(raw, dims, axis, n, m, inPlace)
		if err != nil {
			t.Fatal(err)
		}
		if out != nil && (&out[0] == &raw[0]) != inPlace {
			t.Fatalf("trial %d: pruned in place %v, want %v", trial, !inPlace, inPlace)
		}
		if !inPlace && !slices.Equal(raw, orig) {
			t.Fatalf("trial %d: the input bytes changed without inPlace", trial)
		}
		if (out != nil) != changed {
			t.Fatalf("trial %d: changed %v, want %v", trial, out != nil, changed)
		}
		if out == nil {
			out = raw
		}
		got, _ := ir.NewTensor("w", ir.Float, dims, out).Float64s()
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("trial %d (%d:%d, dims %v, axis %d): element %d is %v, want %v", trial, n, m, dims, axis, i, got[i], want[i])
			}
		}
	}
}

// TestNMRaw32InPlaceErrorLeavesWeights: in place, a weight that cannot be ranked is found
// before any zero is written.
func TestNMRaw32InPlaceErrorLeavesWeights(t *testing.T) {
	raw := ir.FromFloat32("w", []int64{8}, []float32{1, 0.1, 2, 0.2, 3, float32(math.NaN()), 4, 0.4}).Raw
	orig := slices.Clone(raw)
	for _, inPlace := range []bool{false, true} {
		if _, err := nmRaw32(raw, []int64{8}, 0, 2, 4, inPlace); err == nil || !strings.Contains(err.Error(), "NaN at flat index 5") {
			t.Errorf("inPlace %v: error %v, want the NaN at flat index 5", inPlace, err)
		}
		if !slices.Equal(raw, orig) {
			t.Fatalf("inPlace %v: the weights changed", inPlace)
		}
	}
}
