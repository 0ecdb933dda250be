package passes_test

import (
	"context"
	"testing"

	"github.com/whittle-ml/whittle/internal/graphgen"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// FuzzOptimize builds a random graph from the fuzzer's bytes (the first byte picks an
// elementwise/shape graph or a small CNN with the patterns the passes rewrite), runs the
// default pipeline with verification after every pass, and checks that the optimized
// model verifies and computes the original's outputs (within 1e-5 relative: folding
// BatchNormalization into Conv reorders float arithmetic).
func FuzzOptimize(f *testing.F) {
	for _, seed := range [][]byte{{0}, {1}, {0, 5, 5, 5, 5, 5, 5, 5, 5}, {1, 3, 9, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1}, []byte("\x01cnn with batch norm")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkOptimize(t, generate(data))
	})
}

func generate(data []byte) *graphgen.Case {
	src := graphgen.NewSource(data)
	if src.Intn(2) == 0 {
		return graphgen.Elementwise(src, 12)
	}
	return graphgen.CNN(src)
}

func checkOptimize(t *testing.T, c *graphgen.Case) {
	t.Helper()
	orig := c.Model
	if err := orig.Verify(); err != nil {
		t.Fatalf("generated model does not verify: %v", err)
	}
	opt := orig.Clone()
	ctx := &passes.Context{VerifyEach: true, Eval: runtime.ConstEvaluator{}}
	if _, err := passes.Run(ctx, opt, passes.Default()); err != nil {
		t.Fatalf("optimize: %v\n%s", err, ir.Format(orig))
	}
	if err := opt.Verify(); err != nil {
		t.Fatalf("optimized model does not verify: %v\n%s", err, ir.Format(opt))
	}
	want := runCase(t, orig, c)
	got := runCase(t, opt, c)
	for i := range want {
		w := &graphgen.Tensor{Shape: want[i].Shape, Data: want[i].Float32s()}
		g := &graphgen.Tensor{Shape: got[i].Shape, Data: got[i].Float32s()}
		if err := graphgen.Compare(g, w, 1e-5, 1e-5); err != nil {
			t.Fatalf("output %d differs after optimizing: %v\noriginal:\n%s\noptimized:\n%s", i, err, ir.Format(orig), ir.Format(opt))
		}
	}
}

func runCase(t *testing.T, m *ir.Model, c *graphgen.Case) []*kernel.Tensor {
	t.Helper()
	s, err := runtime.NewSession(m, runtime.Options{Reference: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, ir.Format(m))
	}
	inputs := make([]*kernel.Tensor, 0, len(m.Graph.Inputs))
	for _, v := range m.Graph.Inputs {
		in := c.Inputs[v.Name]
		inputs = append(inputs, kernel.FromFloat32(in.Shape, append([]float32(nil), in.Data...)))
	}
	outs, err := s.RunOrdered(context.Background(), inputs)
	if err != nil {
		t.Fatalf("%v\n%s", err, ir.Format(m))
	}
	return outs
}

// TestOptimizeRandomGraphs runs seeded random graphs of both kinds through the fuzz check.
func TestOptimizeRandomGraphs(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 40
	}
	for seed := uint64(0); seed < uint64(n); seed++ {
		checkOptimize(t, generate(append([]byte{byte(seed)}, graphgen.SeededSource(seed, 256).Bytes()...)))
	}
}
