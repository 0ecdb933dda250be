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
			asJSON := jsonFlag(fs)
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
				out := benchJSON{Models: []*benchResult{}}
				for _, path := range args {
					r, err := benchModel(e, path, *batch, *runs, *warmup, *ort, *threads)
					if err != nil {
						return err
					}
					if *asJSON {
						out.Models = append(out.Models, r)
					} else {
						printBench(e, r)
					}
				}
				if *asJSON {
					return printJSON(e, "bench", out)
				}
				return nil
			}
		},
	})
}

// benchJSON is the --json output of whittle bench (schema whittle.bench/1).
type benchJSON struct {
	Models []*benchResult `json:"models"`
}

// benchResult is one model's latency.
type benchResult struct {
	Model   string       `json:"model"`
	Batch   int64        `json:"batch"`
	Runs    int          `json:"runs"`
	Warmup  int          `json:"warmup"`
	Threads int          `json:"threads"`
	Whittle benchLatency `json:"whittle"`
	// ORT is ONNX Runtime's latency with --ort, and WhittleOverORT the ratio of medians.
	ORT            *benchLatency `json:"onnxruntime,omitempty"`
	WhittleOverORT *float64      `json:"whittle_over_onnxruntime,omitempty"`
}

type benchLatency struct {
	MedianMS float64 `json:"median_ms"`
	P90MS    float64 `json:"p90_ms"`
	// BytesPerRun and AllocsPerRun are Go heap allocations (whittle only).
	BytesPerRun  *float64 `json:"bytes_per_run,omitempty"`
	AllocsPerRun *float64 `json:"allocs_per_run,omitempty"`
}

func printBench(e *env, r *benchResult) {
	fmt.Fprintf(e.stdout, "%s (batch %d)\n  whittle       median %8.2f ms  p90 %8.2f ms  %s and %.0f allocations per run\n",
		r.Model, r.Batch, r.Whittle.MedianMS, r.Whittle.P90MS, stats.FormatBytes(int64(*r.Whittle.BytesPerRun)), *r.Whittle.AllocsPerRun)
	if r.ORT != nil {
		fmt.Fprintf(e.stdout, "  ONNX Runtime  median %8.2f ms  p90 %8.2f ms\n  whittle / ORT %.2fx\n", r.ORT.MedianMS, r.ORT.P90MS, *r.WhittleOverORT)
	}
}

func benchModel(e *env, path string, batch int64, runs, warmup int, ort bool, threads int) (*benchResult, error) {
	m, err := loadModel(e, path)
	if err != nil {
		return nil, err
	}
	sess, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
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
			return nil, fmt.Errorf("%s: %w", path, err)
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
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	times := make([]float64, runs)
	for i := range times {
		start := time.Now()
		if _, err := sess.Run(ctx, feeds); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		times[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	goruntime.ReadMemStats(&after)
	med, p90 := percentiles(times)
	bytesPerRun := float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
	allocsPerRun := float64(after.Mallocs-before.Mallocs) / float64(runs)
	r := &benchResult{Model: path, Batch: batch, Runs: runs, Warmup: warmup, Threads: threads,
		Whittle: benchLatency{MedianMS: med, P90MS: p90, BytesPerRun: &bytesPerRun, AllocsPerRun: &allocsPerRun}}
	if !ort {
		return r, nil
	}
	res, err := ortpeer.Run([]ortpeer.Job{{Model: path, Inputs: feeds, Threads: threads, Warmup: warmup, Runs: runs}})
	if err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, fmt.Errorf("%s: %w", path, res[0].Err)
	}
	omed, op90 := percentiles(res[0].LatencyMS)
	ratio := med / omed
	r.ORT, r.WhittleOverORT = &benchLatency{MedianMS: omed, P90MS: op90}, &ratio
	return r, nil
}

func percentiles(ms []float64) (median, p90 float64) {
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	return s[len(s)/2], s[(len(s)*9)/10]
}
