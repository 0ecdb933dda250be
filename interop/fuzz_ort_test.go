package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/whittle-ml/whittle/internal/graphgen"
	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// TestDifferentialFuzzORT is a bounded differential fuzz against ONNX Runtime: random
// graphs of elementwise and shape operators and random small CNNs (internal/graphgen), run
// by whittle and by ORT (all in one Node.js process), must agree within 1e-5. The seeds
// start from $WHITTLE_ORT_FUZZ_SEED (default: the clock, printed, so that every CI run
// tries new graphs and a failure can be replayed); $WHITTLE_ORT_FUZZ_COUNT graphs (default
// 300, about 15 s) are tried.
func TestDifferentialFuzzORT(t *testing.T) {
	ortpeer.Require(t)
	base := uint64(time.Now().UnixNano())
	if s := os.Getenv("WHITTLE_ORT_FUZZ_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("WHITTLE_ORT_FUZZ_SEED: %v", err)
		}
		base = v
	}
	count := 300
	if s := os.Getenv("WHITTLE_ORT_FUZZ_COUNT"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("WHITTLE_ORT_FUZZ_COUNT: %v", err)
		}
		count = v
	}
	t.Logf("seeds %d..%d (replay with WHITTLE_ORT_FUZZ_SEED=%d)", base, base+uint64(count)-1, base)
	dir := t.TempDir()
	type fuzzCase struct {
		seed  uint64
		c     *graphgen.Case
		path  string
		feeds map[string]*kernel.Tensor
	}
	var cases []fuzzCase
	var jobs []ortpeer.Job
	for i := 0; i < count; i++ {
		seed := base + uint64(i)
		src := graphgen.SeededSource(seed, 256)
		var c *graphgen.Case
		if seed%3 == 0 {
			c = graphgen.CNN(src)
		} else {
			c = graphgen.Elementwise(src, 12)
		}
		path := filepath.Join(dir, fmt.Sprintf("g%d.onnx", i))
		if err := onnx.SaveModel(path, c.Model, onnx.WriteOptions{}); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		feeds := map[string]*kernel.Tensor{}
		for name, in := range c.Inputs {
			feeds[name] = kernel.FromFloat32(in.Shape, append([]float32(nil), in.Data...))
		}
		cases = append(cases, fuzzCase{seed, c, path, feeds})
		jobs = append(jobs, ortpeer.Job{Model: path, Inputs: feeds, GraphOptimization: "all", Threads: 1})
	}
	results, err := ortpeer.Run(jobs)
	if err != nil {
		t.Fatal(err)
	}
	failures := 0
	for i, fc := range cases {
		r := results[i]
		fail := func(format string, args ...any) {
			failures++
			if failures <= 5 {
				t.Errorf("seed %d: %s\n%s", fc.seed, fmt.Sprintf(format, args...), ir.Format(fc.c.Model))
			}
		}
		if r.Err != nil {
			fail("ONNX Runtime: %v", r.Err)
			continue
		}
		s, err := runtime.NewSession(fc.c.Model, runtime.Options{})
		if err != nil {
			fail("whittle: %v", err)
			continue
		}
		outs, err := s.Run(context.Background(), fc.feeds)
		if err != nil {
			fail("whittle: %v", err)
			continue
		}
		for k, name := range r.Names {
			got, want := outs[name], r.Outputs[k]
			if got == nil {
				fail("whittle has no output %q", name)
				continue
			}
			g := &graphgen.Tensor{Shape: got.Shape, Data: got.Float32s()}
			w := &graphgen.Tensor{Shape: want.Shape, Data: want.Float32s()}
			if err := graphgen.Compare(g, w, 1e-5, 1e-5); err != nil {
				fail("output %q: whittle vs ONNX Runtime: %v", name, err)
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d graphs disagree with ONNX Runtime", failures, count)
	}
}
