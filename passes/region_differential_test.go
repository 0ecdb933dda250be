package passes_test

import (
	"context"
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/ir/stats"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Real regions of the test models: a residual block of the CNN and a transformer MLP. The
// extracted block computes the exit from the entry as the model does; a channel-pruned
// block spliced back keeps the model's interface, runs, and has fewer MACs.
func TestRegionsOfTestModels(t *testing.T) {
	root, ok := testenv.RepoRoot()
	if !ok {
		t.Fatal("no repository root")
	}
	for _, tc := range []struct {
		file, from, to string
		nodes          int
	}{
		{"fashion_cnn_op17.onnx", "/features/features.3/MaxPool_output_0", "/features/features.4/Relu_1_output_0", 5},
		{"fashion_vit_op17.onnx", "/layers/layers.0/ln2/LayerNormalization_output_0", "/layers/layers.0/mlp/mlp.3/Add_output_0", 9},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m, err := onnx.LoadModel(filepath.Join(root, "testmodels", tc.file))
			if err != nil {
				testenv.Skipf(t, "%v", err)
			}
			if _, err := infer.Model(m, infer.Options{DataPropagation: true}); err != nil {
				t.Fatal(err)
			}
			r, err := passes.FindRegion(m, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Nodes) != tc.nodes {
				t.Errorf("%d nodes in the region, want %d", len(r.Nodes), tc.nodes)
			}
			block := r.Extract(m)
			// The block reproduces the exit from the entry.
			sess, err := runtime.NewSession(m, runtime.Options{Intermediates: true})
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewSource(1))
			all, err := sess.Run(context.Background(), map[string]*kernel.Tensor{"input": randomInput(rng, 2, 1, 28, 28)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := runModel(block, []string{tc.from}, []*kernel.Tensor{all[tc.from]})
			if err != nil {
				t.Fatal(err)
			}
			// The block runs alone, so the runtime may fuse and sum it differently from
			// the whole model: agreement to float rounding, not bit for bit.
			g, w := got[0].Float32s(), all[tc.to].Float32s()
			if len(g) != len(w) {
				t.Fatalf("block output has %d elements, the model's tensor %d", len(g), len(w))
			}
			for i := range w {
				if d := math.Abs(float64(g[i] - w[i])); d > 1e-4*(1+math.Abs(float64(w[i]))) {
					t.Fatalf("block vs model at %s: element %d = %v, want %v", tc.to, i, g[i], w[i])
				}
			}
			// Half the block's channels, spliced back.
			opts := passes.DefaultPruneOptions()
			opts.Pattern, opts.Sparsity = passes.PatternChannel, 0.5
			rep, err := passes.Prune(&passes.Context{}, block, opts)
			if err != nil || !rep.Changed {
				t.Fatalf("pruning the block: changed=%v err=%v", rep != nil && rep.Changed, err)
			}
			student := m.Clone()
			if err := passes.SpliceRegion(&passes.Context{VerifyEach: true}, student, tc.from, tc.to, block); err != nil {
				t.Fatal(err)
			}
			if err := student.Verify(); err != nil {
				t.Fatal(err)
			}
			res, err := infer.Model(student, infer.Options{DataPropagation: true})
			if err != nil || len(res.Problems) > 0 {
				t.Fatalf("inference: %v %v", err, res)
			}
			if a, b := stats.Measure(m).MACs, stats.Measure(student).MACs; b >= a {
				t.Errorf("MACs %d -> %d", a, b)
			}
			out, err := runModel(student, []string{"input"}, []*kernel.Tensor{randomInput(rng, 2, 1, 28, 28)})
			if err != nil {
				t.Fatal(err)
			}
			if s := out[0].Shape; len(s) != 2 || s[0] != 2 || s[1] != 10 {
				t.Errorf("student output shape %v", s)
			}
		})
	}
}
