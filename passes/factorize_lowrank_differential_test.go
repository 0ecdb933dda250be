package passes_test

import (
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// At full rank a factorized model computes what the original computes: every test model,
// every factorized layer, outputs within 1e-5 in whittle's runtime. At a lower rank the
// outputs move, and the parameter count falls.
func TestFactorizeLowRankFullRankMatchesOriginal(t *testing.T) {
	root, ok := testenv.RepoRoot()
	if !ok {
		t.Fatal("no repository root")
	}
	for _, file := range []string{"fashion_mlp_op17.onnx", "fashion_vit_op17.onnx", "fashion_vit_op13.onnx"} {
		t.Run(file, func(t *testing.T) {
			m, err := onnx.LoadModel(filepath.Join(root, "testmodels", file))
			if err != nil {
				testenv.Skipf(t, "%v", err)
			}
			rng := rand.New(rand.NewSource(1))
			names := []string{feeds(m)[0].Name}
			in := []*kernel.Tensor{randomInput(rng, 4, 1, 28, 28)}
			want, err := runModel(m, names, in)
			if err != nil {
				t.Fatal(err)
			}
			full := m.Clone()
			opts := passes.LowRankOptions{Rank: 1 << 20, Force: true}
			rep, err := passes.FactorizeLowRank(&passes.Context{VerifyEach: true}, full, opts)
			if err != nil {
				t.Fatal(err)
			}
			factored := 0
			for _, l := range rep.Layers {
				if l.Rank > 0 {
					factored++
				}
			}
			if factored == 0 {
				t.Fatalf("no layer factorized: %+v", rep.Layers)
			}
			p, err := onnx.FromIR(full)
			if err != nil {
				t.Fatal(err)
			}
			back, err := onnx.ToIR(p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := runModel(back, names, in)
			if err != nil {
				t.Fatal(err)
			}
			if err := compareScaled(got, want, 1e-5); err != nil {
				t.Errorf("%d layers factorized at full rank: %v", factored, err)
			}
			// Rank 8 saves weights and changes the outputs.
			low := m.Clone()
			lrep, err := passes.FactorizeLowRank(&passes.Context{VerifyEach: true}, low, passes.LowRankOptions{Rank: 8})
			if err != nil {
				t.Fatal(err)
			}
			before, after := int64(0), int64(0)
			for _, l := range lrep.Layers {
				before += l.Params
				after += l.ParamsAfter
			}
			if after >= before {
				t.Errorf("rank 8: %d -> %d weights", before, after)
			}
			lgot, err := runModel(low, names, in)
			if err != nil {
				t.Fatal(err)
			}
			if compareScaled(lgot, want, 1e-5) == nil {
				t.Errorf("rank 8 left the outputs unchanged: the test cannot see a factorization")
			}
		})
	}
}
