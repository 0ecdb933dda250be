package passes

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

// zeroPattern renders which elements are zero: "1" kept, "0" zeroed.
func zeroPattern(xs []float32) string {
	var b strings.Builder
	for _, x := range xs {
		if x == 0 {
			b.WriteByte('0')
		} else {
			b.WriteByte('1')
		}
	}
	return b.String()
}

func mustPrune(t *testing.T, m *ir.Model, opts PruneOptions) *PruneReport {
	t.Helper()
	ctx := &Context{VerifyEach: true}
	rep, err := Prune(ctx, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(); err != nil {
		t.Fatalf("invalid IR after pruning: %v", err)
	}
	if rep.Changed != (ctx.Log.Len() > 0) {
		t.Fatalf("report says changed=%v, log has %d changes", rep.Changed, ctx.Log.Len())
	}
	return rep
}

// twoGemms: X[1,3] -> Gemm(W1[3,2], B1) -> Gemm(W2[2,5]) -> Y, with a Conv-free MLP.
func twoGemms(t *testing.T, w1, w2 []float32) *ir.Model {
	b := newBuilder(t, 17).Input("X", ir.Float, 1, 3).
		Floats("W1", []int64{3, 2}, w1...).Floats("B1", []int64{2}, 0.001, -0.002).
		Floats("W2", []int64{2, 5}, w2...).
		Node("Gemm", "X,W1,B1", "H").Node("Relu", "H", "R").Node("Gemm", "R,W2", "Y").Output("Y")
	return b.Model()
}

func TestPruneUnstructuredMasks(t *testing.T) {
	w1 := []float32{0.5, -0.1, 0.3, -0.7, 0.2, 0.05}
	w2 := []float32{1, -2, 0.01, 3, -0.02, 0.5, 0.4, -0.03, 2, 1.5}
	tests := []struct {
		name   string
		opts   func(o *PruneOptions)
		w1, w2 string
	}{
		// k = round(0.5*6) = 3 smallest |w| of W1: 0.05, -0.1, 0.2; of W2 round(5)=5.
		{"layer 0.5", func(o *PruneOptions) {}, "101100", "1101000011"},
		// Global: 16 weights, k = 8 smallest over both: 0.01 0.02 0.03 0.05 0.1 0.2 0.3 0.4.
		{"global 0.5", func(o *PruneOptions) { o.Scope = ScopeGlobal }, "100100", "1101010011"},
		// round(0.25*6) = round(1.5) = 2 (half to even); round(0.25*10) = round(2.5) = 2.
		{"half to even", func(o *PruneOptions) { o.Sparsity = 0.25 }, "101110", "1101011111"},
		{"exclude by node name", func(o *PruneOptions) { o.Exclude = []string{"Gemm_H"} }, "111111", "1101000011"},
		{"exclude by weight glob", func(o *PruneOptions) { o.Exclude = []string{"W*"} }, "111111", "1111111111"},
		{"per-layer override outside global ranking", func(o *PruneOptions) {
			o.Scope = ScopeGlobal
			o.PerLayer = []LayerSparsity{{"W2", 0.1}}
		}, "101100", "1101111111"},
		{"sparsity 0", func(o *PruneOptions) { o.Sparsity = 0 }, "111111", "1111111111"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := twoGemms(t, w1, w2)
			opts := DefaultPruneOptions()
			tc.opts(&opts)
			rep := mustPrune(t, m, opts)
			g := m.Graph
			if got := zeroPattern(floatsOf(t, g.Lookup("W1"))); got != tc.w1 {
				t.Errorf("W1 mask %s, want %s", got, tc.w1)
			}
			if got := zeroPattern(floatsOf(t, g.Lookup("W2"))); got != tc.w2 {
				t.Errorf("W2 mask %s, want %s", got, tc.w2)
			}
			if got := floatsOf(t, g.Lookup("B1")); got[0] != 0.001 || got[1] != -0.002 {
				t.Errorf("bias changed: %v", got)
			}
			if len(rep.Layers) != 2 {
				t.Fatalf("report has %d layers, want 2", len(rep.Layers))
			}
		})
	}
}

func TestPruneUnstructuredTiesAndIdempotence(t *testing.T) {
	// Equal magnitudes: the earlier index is pruned first.
	m := twoGemms(t, []float32{0.2, -0.2, 0.2, 0.2, -0.2, 0.2}, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	opts := DefaultPruneOptions()
	opts.Scope = ScopeGlobal
	opts.Sparsity = 0.25 // k = 4 of 16: the first four of W1's equal 0.2s
	mustPrune(t, m, opts)
	if got := zeroPattern(floatsOf(t, m.Graph.Lookup("W1"))); got != "000011" {
		t.Errorf("tie rule: W1 mask %s, want 000011", got)
	}
	before := ir.Format(m)
	if rep := mustPrune(t, m, opts); rep.Changed {
		t.Errorf("pruning again changed the model")
	}
	if ir.Format(m) != before {
		t.Errorf("pruning again changed the text form")
	}
}

func TestPruneNeverTouchesNormsOrSharedWeights(t *testing.T) {
	b := newBuilder(t, 17).Input("X", ir.Float, 1, 2, 1, 2).
		Floats("W", []int64{2, 2, 1, 1}, 0.1, -0.9, 0.8, 0.05).
		Floats("S", []int64{2}, 0.01, 1).Floats("Bb", []int64{2}, 0, 0).Floats("M", []int64{2}, 0, 0).Floats("V", []int64{2}, 1, 1).
		Floats("U", []int64{2, 2}, 0.1, 0.2, 0.3, 0.4).
		Node("Conv", "X,W", "C").Node("BatchNormalization", "C,S,Bb,M,V", "N").
		Node("Flatten", "N", "F", ir.IntAttr("axis", 3)).Node("MatMul", "F,U", "Y").Node("Add", "Y,U", "Z").Output("Z")
	m := b.Model()
	rep := mustPrune(t, m, DefaultPruneOptions())
	if got := zeroPattern(floatsOf(t, m.Graph.Lookup("W"))); got != "0110" {
		t.Errorf("conv weight mask %s, want 0110", got)
	}
	if got := zeroPattern(floatsOf(t, m.Graph.Lookup("S"))); got != "11" {
		t.Errorf("BN scale pruned: %s", got)
	}
	if got := zeroPattern(floatsOf(t, m.Graph.Lookup("U"))); got != "1111" {
		t.Errorf("weight also read by Add was pruned: %s", got)
	}
	found := false
	for _, s := range rep.Skipped {
		found = found || strings.Contains(s.Reason, "also read by")
	}
	if !found {
		t.Errorf("shared weight not reported as skipped: %+v", rep.Skipped)
	}
}

func TestSmallestKMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 50; trial++ {
		n := 1 + rng.IntN(40)
		keys := make([]float64, n)
		for i := range keys {
			keys[i] = float64(rng.IntN(6)) // many ties
		}
		k := rng.IntN(n + 1)
		mask, _ := smallestK(keys, k)
		order := sortedIndexByKey(keys)
		want := make([]bool, n)
		for _, i := range order[:k] {
			want[i] = true
		}
		if fmt.Sprint(mask) != fmt.Sprint(want) {
			t.Fatalf("keys %v k=%d: mask %v, want %v", keys, k, mask, want)
		}
	}
}

// pruneRaw32, the in-place float32 path, zeroes exactly what smallestK and applyMask do:
// the same threshold, ties taken in index order, zeros and negative zeros left alone.
func TestPruneRaw32MatchesSmallestK(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 300 {
		n := 1 + rng.IntN(300)
		xs := make([]float32, n)
		for i := range xs {
			switch rng.IntN(5) {
			case 0:
				xs[i] = 0
			case 1:
				xs[i] = float32(rng.IntN(4)) - 2 // many ties
			case 2:
				xs[i] = float32(math.Copysign(0, -1))
			default:
				xs[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4)))
			}
		}
		k := rng.IntN(n + 2)
		w := make([]float64, n)
		for i, x := range xs {
			w[i] = float64(x)
		}
		mask, _ := smallestK(absKeys(w), k)
		want := slices.Clone(w)
		changed := false
		for i, m := range mask {
			if m && want[i] != 0 {
				want[i], changed = 0, true
			}
		}
		// Split into up to three tensors, ranked as one.
		raw := ir.FromFloat32("w", []int64{int64(n)}, xs).Raw
		cut1, cut2 := rng.IntN(n+1), rng.IntN(n+1)
		cut1, cut2 = min(cut1, cut2), max(cut1, cut2)
		parts := [][]byte{raw[:4*cut1], raw[4*cut1 : 4*cut2], raw[4*cut2:]}
		orig := slices.Clone(raw)
		inPlace := trial%2 == 1
		outs, thr, err := pruneRaw32(parts, k, inPlace)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range outs {
			if o != nil && len(o) > 0 && (&o[0] == &parts[i][0]) != inPlace {
				t.Fatalf("trial %d: tensor %d pruned in place %v, want %v", trial, i, !inPlace, inPlace)
			}
		}
		if !inPlace && !slices.Equal(raw, orig) {
			t.Fatalf("trial %d: the input bytes changed without inPlace", trial)
		}
		if _, wantThr := smallestK(absKeys(w), k); thr != wantThr {
			t.Fatalf("trial %d: threshold %v, want %v", trial, thr, wantThr)
		}
		var out []byte
		for i, o := range outs {
			if o == nil {
				o = parts[i]
			}
			out = append(out, o...)
		}
		if anyOut := outs[0] != nil || outs[1] != nil || outs[2] != nil; anyOut != changed {
			t.Fatalf("trial %d: changed %v, want %v", trial, anyOut, changed)
		}
		got, _ := ir.NewTensor("w", ir.Float, []int64{int64(n)}, out).Float64s()
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("trial %d (n %d, k %d): element %d is %v, want %v", trial, n, k, i, got[i], want[i])
			}
		}
	}
	a := ir.FromFloat32("a", []int64{1}, []float32{1}).Raw
	_, _, err := pruneRaw32([][]byte{a, ir.FromFloat32("b", []int64{3}, []float32{1, float32(math.Inf(1)), 2}).Raw}, 1, true)
	var re *rawRankError
	if !errors.As(err, &re) || re.tensor != 1 || !strings.Contains(err.Error(), "+Inf at flat index 1") {
		t.Errorf("infinity: %v", err)
	}
	if v, _ := ir.NewTensor("a", ir.Float, []int64{1}, a).Float64s(); v[0] != 1 {
		t.Errorf("after the error, in place: a = %v, want it untouched", v)
	}
}
