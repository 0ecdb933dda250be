package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	goruntime "runtime"
	"sort"
	"time"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/ir/stats"
	"github.com/whittle-ml/whittle/runtime"
)

func init() {
	register(&command{
		name:    "bench",
		args:    "MODEL... [--batch N] [--runs N] [--warmup N] [--ort]",
		summary: "measure a model's latency and allocations in whittle's runtime (and ONNX Runtime's)",
		help: `
Runs each MODEL on random inputs of its declared shapes (symbolic dimensions take
--batch) and reports the median and 90th-percentile latency of --runs timed runs after
--warmup untimed ones, and the bytes and allocations per run. With --ort the same model and
inputs run in ONNX Runtime (onnxruntime-node, installed by scripts/install-test-deps; set
WHITTLE_ORT_DIR to a folder with interop/ort's run.js and node_modules when running outside
the repository) in the same invocation, and the ratio is printed.

Examples:
  whittle bench testmodels/fashion_cnn_op17.onnx --batch 32
  whittle bench resnet18.onnx pruned.onnx --ort --runs 30
  whittle bench model.onnx --threads 1 --ort`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			batch := fs.Int64("batch", 1, "size of symbolic dimensions")
			runs := fs.Int("runs", 20, "timed runs")
			warmup := fs.Int("warmup", 3, "untimed runs first")
			ort := fs.Bool("ort", false, "also run in ONNX Runtime and compare")
			threads := fs.Int("threads", 0, "threads for whittle (GOMAXPROCS) and ORT's intra-op pool; 0 uses all cores")
			return func(e *env, args []string) error {
				if len(args) == 0 {
					return usagef("expected at least one MODEL")
				}
				if *runs < 1 || *warmup < 0 || *batch < 1 {
					return usagef("--runs and --batch must be >= 1, --warmup >= 0")
				}
				if *threads > 0 {
					defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(*threads))
				}
				for _, path := range args {
					if err := benchModel(e, path, *batch, *runs, *warmup, *ort, *threads); err != nil {
						return err
					}
				}
				return nil
			}
		},
	})
}

func benchModel(e *env, path string, batch int64, runs, warmup int, ort bool, threads int) error {
	m, err := loadModel(e, path)
	if err != nil {
		return err
	}
	sess, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	feeds := map[string]*runtime.Tensor{}
	symbolic := map[string]int64{}
	for _, v := range realInputs(m.Graph) {
		if v.Type != nil {
			for _, d := range v.Type.Dims {
				if d.Param != "" {
					symbolic[d.Param] = batch
				}
			}
		}
		t, err := randomTensor(v, symbolic, rng)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		// Unnamed unknown dimensions also take --batch.
		for i, d := range v.Type.Dims {
			if !d.IsKnown() && d.Param == "" {
				t.Shape[i] = batch
			}
		}
		feeds[v.Name] = t
	}
	ctx := context.Background()
	for i := 0; i < warmup; i++ {
		if _, err := sess.Run(ctx, feeds); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	times := make([]float64, runs)
	for i := range times {
		start := time.Now()
		if _, err := sess.Run(ctx, feeds); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		times[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	goruntime.ReadMemStats(&after)
	med, p90 := percentiles(times)
	bytesPerRun := float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
	allocsPerRun := float64(after.Mallocs-before.Mallocs) / float64(runs)
	fmt.Fprintf(e.stdout, "%s (batch %d)\n  whittle       median %8.2f ms  p90 %8.2f ms  %s and %.0f allocations per run\n",
		path, batch, med, p90, stats.FormatBytes(int64(bytesPerRun)), allocsPerRun)
	if !ort {
		return nil
	}
	res, err := ortpeer.Run([]ortpeer.Job{{Model: path, Inputs: feeds, Threads: threads, Warmup: warmup, Runs: runs}})
	if err != nil {
		return err
	}
	if res[0].Err != nil {
		return fmt.Errorf("%s: %w", path, res[0].Err)
	}
	omed, op90 := percentiles(res[0].LatencyMS)
	fmt.Fprintf(e.stdout, "  ONNX Runtime  median %8.2f ms  p90 %8.2f ms\n  whittle / ORT %.2fx\n", omed, op90, med/omed)
	return nil
}

func percentiles(ms []float64) (median, p90 float64) {
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	return s[len(s)/2], s[(len(s)*9)/10]
}
