package runtime_test

import (
	"context"
	"testing"

	"github.com/whittle-ml/whittle/internal/graphgen"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// FuzzRuntime builds a random graph of elementwise and shape operators from the fuzzer's
// bytes (internal/graphgen), runs it with whittle's runtime, prepared and as written, on
// one thread and on two, and compares every output with graphgen.Reference's loops.
// Add, Sub, Mul, Max, Min, Neg, Abs and Relu must agree bit for bit; Sigmoid and Tanh
// within a few float32 ulps.
func FuzzRuntime(f *testing.F) {
	for _, seed := range [][]byte{
		{}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		[]byte("elementwise and shape ops"),
		{3, 4, 4, 4, 4, 3, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := graphgen.Elementwise(graphgen.NewSource(data), 12)
		checkAgainstReference(t, c)
	})
}

func checkAgainstReference(t *testing.T, c *graphgen.Case) {
	t.Helper()
	m := c.Model
	if err := m.Verify(); err != nil {
		t.Fatalf("generated model does not verify: %v\n%s", err, ir.Format(m))
	}
	want, err := graphgen.Reference(m, c.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	feeds := map[string]*kernel.Tensor{}
	for name, in := range c.Inputs {
		feeds[name] = kernel.FromFloat32(in.Shape, append([]float32(nil), in.Data...))
	}
	for _, opts := range []runtime.Options{{Threads: 1}, {Threads: 2}, {Reference: true}} {
		s, err := runtime.NewSession(m, opts)
		if err != nil {
			t.Fatalf("%+v: %v\n%s", opts, err, ir.Format(m))
		}
		outs, err := s.Run(context.Background(), feeds)
		if err != nil {
			t.Fatalf("%+v: %v\n%s", opts, err, ir.Format(m))
		}
		for i, v := range m.Graph.Outputs {
			got := outs[v.Name]
			g := &graphgen.Tensor{Shape: got.Shape, Data: got.Float32s()}
			if err := graphgen.Compare(g, want[i], 1e-6, 1e-7); err != nil {
				t.Fatalf("%+v: output %q: %v\n%s", opts, v.Name, err, ir.Format(m))
			}
		}
	}
	for name, in := range c.Inputs {
		if got := feeds[name].Float32s(); !equalBits(got, in.Data) {
			t.Fatalf("input %q was modified by the run", name)
		}
	}
}

func equalBits(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] && (a[i] == a[i] || b[i] == b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// TestRandomGraphs runs 300 seeded random graphs through the fuzz check, so that the
// default test run covers far more than the fuzz seeds.
func TestRandomGraphs(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	for seed := uint64(0); seed < uint64(n); seed++ {
		c := graphgen.Elementwise(graphgen.SeededSource(seed, 256), 12)
		checkAgainstReference(t, c)
	}
}
