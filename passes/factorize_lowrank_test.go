package passes

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestChooseRank(t *testing.T) {
	// σ² = 16, 9, 4, 1 (total 30).
	sv := []float64{4, 3, 2, 1}
	for _, tc := range []struct {
		energy float64
		rank   int
		kept   float64
	}{
		{0.5, 1, 16.0 / 30},
		{16.0 / 30, 1, 16.0 / 30},
		{0.6, 2, 25.0 / 30},
		{0.9, 3, 29.0 / 30},
		{0.99, 4, 1},
		{1, 4, 1},
	} {
		r, kept := ChooseRank(sv, tc.energy)
		if r != tc.rank || math.Abs(kept-tc.kept) > 1e-12 {
			t.Errorf("energy %v: rank %d keeping %v, want %d keeping %v", tc.energy, r, kept, tc.rank, tc.kept)
		}
	}
	if r, _ := ChooseRank([]float64{0, 0}, 0.9); r != 1 {
		t.Errorf("zero matrix: rank %d, want 1", r)
	}
}

// At full rank the two factors multiply back to the weight, for every layout.
func TestFactorizeReconstructsAtFullRank(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, tc := range []struct {
		name   string
		kind   string
		dims   []int64
		transB bool
	}{
		{"MatMul [5,3]", "matmul", []int64{5, 3}, false},
		{"MatMul [3,5]", "matmul", []int64{3, 5}, false},
		{"Gemm transB [3,5]", "gemm", []int64{3, 5}, true},
		{"Conv 1x1 [4,6,1,1]", "conv1x1", []int64{4, 6, 1, 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := int64(1)
			for _, d := range tc.dims {
				n *= d
			}
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = rng.NormFloat64()
			}
			w := ir.FromFloat64s("w", ir.Double, tc.dims, xs)
			tg := &lowRankTarget{kind: tc.kind, w: w, k: tc.dims[0], cnt: tc.dims[1], transB: tc.transB}
			if tc.transB || tc.kind == "conv1x1" {
				tg.k, tg.cnt = tc.dims[1], tc.dims[0]
			}
			a, b, info, err := factorize(tg, LowRankOptions{Rank: 100})
			if err != nil {
				t.Fatal(err)
			}
			if want := int(min(tg.k, tg.cnt)); info.rank != want || math.Abs(info.energy-1) > 1e-12 {
				t.Fatalf("rank %d energy %v, want %d and 1", info.rank, info.energy, want)
			}
			m, _ := tg.matrix()
			k, c, r := int(tg.k), int(tg.cnt), info.rank
			for i := 0; i < k; i++ {
				for j := 0; j < c; j++ {
					s := 0.0
					for q := 0; q < r; q++ {
						s += a[i*r+q] * b[q*c+j]
					}
					if d := math.Abs(s - m.At(i, j)); d > 1e-12 {
						t.Fatalf("(A·B)[%d,%d] = %v, W = %v", i, j, s, m.At(i, j))
					}
				}
			}
		})
	}
}

func TestFactorizeLowRankRewrites(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	rnd := func(n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(rng.NormFloat64())
		}
		return out
	}
	tests := []struct {
		name  string
		build func(b *builder) *ir.Model
		opts  LowRankOptions
		ops   string
		want  map[string]string
		skip  string
	}{
		{
			name: "MatMul over tokens, rank 2",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 3, 40).Floats("W", []int64{40, 50}, rnd(2000)...).
					Node("MatMul", "X,W", "Y").Output("Y").Model()
			},
			opts: LowRankOptions{Rank: 2},
			ops:  "MatMul,MatMul",
			want: map[string]string{"W": "[2 50]", "W_lowrank_a": "[40 2]"},
		},
		{
			name: "Gemm transB keeps its orientation and bias",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 40).Floats("W", []int64{50, 40}, rnd(2000)...).Floats("C", []int64{50}, rnd(50)...).
					Node("Gemm", "X,W,C", "Y", ir.IntAttr("transB", 1), ir.FloatAttr("alpha", 0.5)).Output("Y").Model()
			},
			opts: LowRankOptions{Rank: 3},
			ops:  "MatMul,Gemm",
			want: map[string]string{"W": "[50 3]", "W_lowrank_a": "[40 3]", "C": "[50]"},
		},
		{
			name: "1x1 Conv moves strides and pads to the first half",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 40, 5, 5).Floats("W", []int64{50, 40, 1, 1}, rnd(2000)...).
					Node("Conv", "X,W", "Y", ir.IntsAttr("strides", 2, 2), ir.IntsAttr("pads", 1, 1, 1, 1)).Output("Y").Model()
			},
			opts: LowRankOptions{Rank: 4},
			ops:  "Conv,Conv",
			want: map[string]string{"W": "[50 4 1 1]", "W_lowrank_a": "[4 40 1 1]"},
		},
		{
			name: "no saving: skipped",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 40).Floats("W", []int64{40, 50}, rnd(2000)...).
					Node("MatMul", "X,W", "Y").Output("Y").Model()
			},
			opts: LowRankOptions{Rank: 30},
			ops:  "MatMul",
			want: map[string]string{"W": "[40 50]"},
			skip: "no saving",
		},
		{
			name: "3x3 Conv and small layers are left alone",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 40, 5, 5).Floats("W", []int64{50, 40, 3, 3}, rnd(18000)...).
					Floats("S", []int64{450, 2}, rnd(900)...).
					Node("Conv", "X,W", "C").Node("Flatten", "C", "F").Node("MatMul", "F,S", "Y").Output("Y").Model()
			},
			opts: LowRankOptions{Rank: 1, MinSize: 1024},
			ops:  "Conv,Flatten,MatMul",
			want: map[string]string{"W": "[50 40 3 3]"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder(t, 17))
			ctx := &Context{VerifyEach: true}
			rep, err := FactorizeLowRank(ctx, m, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Verify(); err != nil {
				t.Fatal(err)
			}
			if got := ops(m); got != tc.ops {
				t.Errorf("ops %s, want %s", got, tc.ops)
			}
			for name, want := range tc.want {
				if got := dimsOf(m, name); got != want {
					t.Errorf("%s: %s, want %s", name, got, want)
				}
			}
			var skips []string
			for _, l := range rep.Layers {
				skips = append(skips, l.Skipped)
			}
			if tc.skip != "" && !strings.Contains(strings.Join(skips, ";"), tc.skip) {
				t.Errorf("no skip reason mentions %q: %q", tc.skip, skips)
			}
			if rep.Changed != (ctx.Log.Len() > 0) {
				t.Errorf("changed %v but %d changes logged", rep.Changed, ctx.Log.Len())
			}
			checkInference(t, m)
		})
	}
}
