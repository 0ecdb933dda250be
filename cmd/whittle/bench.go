package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/stats"
	"github.com/whittle-ml/whittle/runtime"
)

func init() {
	register(&command{
		name:    "bench",
		args:    "[MODEL...] [--suite FILE] [--batch N] [--runs N] [--warmup N] [--threads N,...] [--ort] [--ops N] [--markdown]",
		summary: "measure a model's latency and allocations in whittle's runtime (and ONNX Runtime's)",
		help: `
Runs each MODEL on random inputs of its declared shapes (symbolic dimensions take
--batch) and reports the median and 90th-percentile latency of --runs timed runs after
--warmup untimed ones, the CPU time per run and the bytes and allocations per run, once
per --threads value. With --ort the same model and inputs run in ONNX Runtime
(onnxruntime-node, installed by scripts/install-test-deps; set WHITTLE_ORT_DIR to a folder
with interop/ort's run.js and node_modules when running outside the repository) in the
same invocation, alternating with whittle in --rounds blocks so that a change in the
machine's load reaches both, and the ratios are printed.

--suite FILE reads the models to run from a JSON file:
  {"models": [{"name": "ResNet-18", "model": "torchvision/resnet18_op17.onnx", "batch": 1}, ...]}
(paths relative to the file; batch defaults to --batch). testmodels/bench.json is the suite
behind the README's speed table, which --markdown prints:
  whittle bench --suite testmodels/bench.json --threads 1,2 --ort --markdown

--ops N then times every step of whittle's session over --runs more runs and lists the N
costliest operators with their input shapes, as the session runs them (fused operators such
as NhwcConv(Relu) or QConvNHWC are one step each): time per run, share and count.

Examples:
  whittle bench testmodels/fashion_cnn_op17.onnx --batch 32 --ops 10
  whittle bench resnet18.onnx pruned.onnx --ort --runs 30
  whittle bench model.onnx --threads 1,2 --ort --json`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			batch := fs.Int64("batch", 1, "size of symbolic dimensions")
			runs := fs.Int("runs", 20, "timed runs")
			warmup := fs.Int("warmup", 3, "untimed runs first")
			rounds := fs.Int("rounds", 4, "with --ort, alternate whittle and ORT in this many blocks of runs")
			ort := fs.Bool("ort", false, "also run in ONNX Runtime and compare")
			threads := fs.IntSlice("threads", nil, "threads for whittle and ORT's intra-op pool, `N[,N...]`; each value is a run (default: every core)")
			suite := fs.String("suite", "", "read the models from a JSON suite `FILE`")
			markdown := fs.Bool("markdown", false, "print a Markdown table (the README's)")
			ops := fs.Int("ops", 0, "also time each operator and list the `N` costliest (0: off)")
			asJSON := jsonFlag(fs)
			return func(e *env, args []string) error {
				if *runs < 1 || *warmup < 0 || *batch < 1 || *rounds < 1 || *ops < 0 {
					return usagef("--runs, --batch and --rounds must be >= 1, --warmup and --ops >= 0")
				}
				entries, err := benchEntries(args, *suite, *batch)
				if err != nil {
					return err
				}
				if len(entries) == 0 {
					return usagef("expected at least one MODEL or --suite FILE")
				}
				ts := *threads
				if len(ts) == 0 {
					ts = []int{0}
				}
				for _, t := range ts {
					if t < 0 {
						return usagef("--threads %d: want a positive count", t)
					}
				}
				out := benchJSON{Machine: machineDescription(), Models: []*benchResult{}}
				for _, en := range entries {
					for _, t := range ts {
						r, err := benchModel(e, en, *runs, *warmup, *rounds, *ort, t, *ops)
						if err != nil {
							return err
						}
						out.Models = append(out.Models, r)
						if !*asJSON && !*markdown {
							printBench(e, r)
						}
					}
				}
				switch {
				case *asJSON:
					return printJSON(e, "bench", out)
				case *markdown:
					printBenchMarkdown(e, out)
				}
				return nil
			}
		},
	})
}

// benchEntry is one model of a bench run.
type benchEntry struct {
	Name  string `json:"name"`
	Model string `json:"model"`
	Batch int64  `json:"batch"`
}

// benchEntries lists the models of the command line, then those of the suite file.
func benchEntries(args []string, suite string, batch int64) ([]benchEntry, error) {
	var out []benchEntry
	for _, a := range args {
		out = append(out, benchEntry{Name: a, Model: a, Batch: batch})
	}
	if suite == "" {
		return out, nil
	}
	data, err := os.ReadFile(suite)
	if err != nil {
		return nil, err
	}
	var s struct {
		Models []benchEntry `json:"models"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", suite, err)
	}
	for i, en := range s.Models {
		if en.Model == "" {
			return nil, fmt.Errorf("%s: model %d has no \"model\" path", suite, i)
		}
		if !filepath.IsAbs(en.Model) {
			en.Model = filepath.Join(filepath.Dir(suite), en.Model)
		}
		if en.Name == "" {
			en.Name = en.Model
		}
		if en.Batch <= 0 {
			en.Batch = batch
		}
		out = append(out, en)
	}
	return out, nil
}

// benchJSON is the --json output of whittle bench (schema whittle.bench/1).
type benchJSON struct {
	Machine string         `json:"machine"`
	Models  []*benchResult `json:"models"`
}

// benchResult is one model's latency at one thread count.
type benchResult struct {
	Name    string       `json:"name"`
	Model   string       `json:"model"`
	Batch   int64        `json:"batch"`
	Runs    int          `json:"runs"`
	Warmup  int          `json:"warmup"`
	Threads int          `json:"threads"`
	Whittle benchLatency `json:"whittle"`
	// ORT is ONNX Runtime's latency with --ort; WhittleOverORT the ratio of medians and
	// CPUOverORT that of the median CPU time per run.
	ORT            *benchLatency `json:"onnxruntime,omitempty"`
	WhittleOverORT *float64      `json:"whittle_over_onnxruntime,omitempty"`
	CPUOverORT     *float64      `json:"cpu_over_onnxruntime,omitempty"`
	// Ops are the costliest operators with --ops.
	Ops []benchOp `json:"ops,omitempty"`
}

// benchOp is one operator and input shape of a session's steps: time and count per run,
// and its share of the time of all steps.
type benchOp struct {
	Op         string  `json:"op"`
	InputShape []int64 `json:"input_shape"`
	Count      float64 `json:"count"`
	MS         float64 `json:"ms"`
	Share      float64 `json:"share"`
}

// opLabel names a step for --ops: the operator, its fused activation, and for windowed
// operators the window, stride and group, so that a depthwise and a pointwise convolution
// on the same input do not share a line.
func opLabel(n *ir.Node) string {
	var b strings.Builder
	b.WriteString(n.OpType)
	if act := n.AttrString("activation", ""); act != "" {
		b.WriteString("(" + act + ")")
	}
	if ks := n.AttrInts("kernel_shape", nil); len(ks) > 0 {
		dims := make([]string, len(ks))
		for i, k := range ks {
			dims[i] = fmt.Sprint(k)
		}
		b.WriteString(" " + strings.Join(dims, "x"))
	}
	for _, st := range n.AttrInts("strides", nil) {
		if st != 1 {
			fmt.Fprintf(&b, " s%d", st)
			break
		}
	}
	if g := n.AttrInt("group", 1); g != 1 {
		fmt.Fprintf(&b, " g%d", g)
	}
	return b.String()
}

// benchOps times every step of a session of m over runs runs (after warmup) and returns
// the n costliest operators, grouped by operator (opLabel) and the shape of the first
// input.
func benchOps(m *ir.Model, path string, feeds map[string]*runtime.Tensor, runs, warmup, threads, n int) ([]benchOp, error) {
	type key struct{ op, shape string }
	byKey := map[key]*benchOp{}
	timing := false
	var total time.Duration
	timer := func(node *ir.Node, inputs []*runtime.Tensor, d time.Duration) {
		if !timing {
			return
		}
		var shape []int64
		if len(inputs) > 0 && inputs[0] != nil {
			shape = inputs[0].Shape
		}
		op := opLabel(node)
		k := key{op, fmt.Sprint(shape)}
		b := byKey[k]
		if b == nil {
			b = &benchOp{Op: op, InputShape: append([]int64(nil), shape...)}
			byKey[k] = b
		}
		b.Count++
		b.MS += float64(d.Nanoseconds()) / 1e6
		total += d
	}
	sess, err := runtime.NewSession(m, runtime.Options{Threads: threads, StepTimer: timer})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ctx := context.Background()
	for i := 0; i < warmup+runs; i++ {
		timing = i >= warmup
		if _, err := sess.Run(ctx, feeds); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	out := make([]benchOp, 0, len(byKey))
	for _, b := range byKey {
		b.Share = b.MS / max(float64(total.Nanoseconds())/1e6, 1e-9)
		b.Count /= float64(runs)
		b.MS /= float64(runs)
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].MS != out[j].MS {
			return out[i].MS > out[j].MS
		}
		return out[i].Op+fmt.Sprint(out[i].InputShape) < out[j].Op+fmt.Sprint(out[j].InputShape)
	})
	return out[:min(n, len(out))], nil
}

type benchLatency struct {
	MedianMS float64 `json:"median_ms"`
	P90MS    float64 `json:"p90_ms"`
	MinMS    float64 `json:"min_ms"`
	// CPUMS is the median CPU time of the process per run, every thread counted.
	CPUMS float64 `json:"cpu_ms"`
	// BytesPerRun and AllocsPerRun are Go heap allocations (whittle only).
	BytesPerRun  *float64 `json:"bytes_per_run,omitempty"`
	AllocsPerRun *float64 `json:"allocs_per_run,omitempty"`
}

func printBench(e *env, r *benchResult) {
	threads := "every core"
	if r.Threads > 0 {
		threads = fmt.Sprintf("%d thread(s)", r.Threads)
	}
	fmt.Fprintf(e.stdout, "%s (batch %d, %s)\n  whittle       median %8.2f ms  p90 %8.2f ms  cpu %8.2f ms  %s and %.0f allocations per run\n",
		r.Name, r.Batch, threads, r.Whittle.MedianMS, r.Whittle.P90MS, r.Whittle.CPUMS,
		stats.FormatBytes(int64(*r.Whittle.BytesPerRun)), *r.Whittle.AllocsPerRun)
	if r.ORT != nil {
		fmt.Fprintf(e.stdout, "  ONNX Runtime  median %8.2f ms  p90 %8.2f ms  cpu %8.2f ms\n  whittle / ORT %.2fx (cpu %.2fx)\n",
			r.ORT.MedianMS, r.ORT.P90MS, r.ORT.CPUMS, *r.WhittleOverORT, *r.CPUOverORT)
	}
	if len(r.Ops) > 0 {
		fmt.Fprintf(e.stdout, "  costliest operators (time per run, share of all steps, count per run, input shape):\n")
		for _, o := range r.Ops {
			fmt.Fprintf(e.stdout, "    %8.3f ms %5.1f%%  x%-3g %s %v\n", o.MS, 100*o.Share, o.Count, o.Op, o.InputShape)
		}
	}
}

// printBenchMarkdown prints the results as the README's table: one row per model, a pair
// of columns per thread count.
func printBenchMarkdown(e *env, out benchJSON) {
	var threads []int
	seen := map[int]bool{}
	// A row per model and batch size.
	type rowKey struct {
		name  string
		batch int64
	}
	rows := map[rowKey]map[int]*benchResult{}
	var names []rowKey
	for _, r := range out.Models {
		if !seen[r.Threads] {
			seen[r.Threads] = true
			threads = append(threads, r.Threads)
		}
		key := rowKey{r.Name, r.Batch}
		if rows[key] == nil {
			rows[key] = map[int]*benchResult{}
			names = append(names, key)
		}
		rows[key][r.Threads] = r
	}
	label := func(t int) string {
		if t == 0 {
			return "all cores"
		}
		return fmt.Sprintf("%d thread", t) + map[bool]string{true: "s", false: ""}[t > 1]
	}
	fmt.Fprintf(e.stdout, "Machine: %s\n\n", out.Machine)
	head, sep := "| model | batch |", "|---|---:|"
	for _, t := range threads {
		head += fmt.Sprintf(" whittle, %s | ORT, %s | ratio (cpu) |", label(t), label(t))
		sep += "---:|---:|---:|"
	}
	fmt.Fprintln(e.stdout, head)
	fmt.Fprintln(e.stdout, sep)
	for _, key := range names {
		var b strings.Builder
		for _, t := range threads {
			r := rows[key][t]
			if r == nil {
				b.WriteString(" | | |")
				continue
			}
			fmt.Fprintf(&b, " %.2f ms |", r.Whittle.MedianMS)
			if r.ORT != nil {
				fmt.Fprintf(&b, " %.2f ms | %.2fx (%.2fx) |", r.ORT.MedianMS, *r.WhittleOverORT, *r.CPUOverORT)
			} else {
				b.WriteString(" | |")
			}
		}
		fmt.Fprintf(e.stdout, "| %s | %d |%s\n", key.name, key.batch, b.String())
	}
}

// benchModel measures one model (and, with ops > 0, lists its ops costliest operators).
func benchModel(e *env, en benchEntry, runs, warmup, rounds int, ort bool, threads, ops int) (*benchResult, error) {
	path, batch := en.Model, en.Batch
	m, err := loadModel(e, path)
	if err != nil {
		return nil, err
	}
	sess, err := runtime.NewSession(m, runtime.Options{Threads: threads})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	feeds, err := benchFeeds(m, batch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ctx := context.Background()
	for i := 0; i < warmup; i++ {
		if _, err := sess.Run(ctx, feeds); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	var wall, cpu, ortWall, ortCPU []float64
	var allocBytes, allocs uint64
	if !ort {
		rounds = 1
	}
	for round := 0; round < rounds; round++ {
		n := runs / rounds
		if round < runs%rounds {
			n++
		}
		if n == 0 {
			continue
		}
		if round > 0 {
			// ORT warms up in every round (each is a new process); whittle does too, since
			// the other process's round has evicted its caches and parked its workers.
			for i := 0; i < warmup; i++ {
				if _, err := sess.Run(ctx, feeds); err != nil {
					return nil, fmt.Errorf("%s: %w", path, err)
				}
			}
		}
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		for i := 0; i < n; i++ {
			c0, start := processCPU(), time.Now()
			if _, err := sess.Run(ctx, feeds); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			wall = append(wall, float64(time.Since(start).Microseconds())/1000)
			cpu = append(cpu, float64((processCPU()-c0).Microseconds())/1000)
		}
		goruntime.ReadMemStats(&after)
		allocBytes += after.TotalAlloc - before.TotalAlloc
		allocs += after.Mallocs - before.Mallocs
		if ort {
			res, err := ortpeer.Run([]ortpeer.Job{{Model: path, Inputs: feeds, Threads: threads, Warmup: warmup, Runs: n}})
			if err != nil {
				return nil, err
			}
			if res[0].Err != nil {
				return nil, fmt.Errorf("%s: %w", path, res[0].Err)
			}
			ortWall = append(ortWall, res[0].LatencyMS...)
			ortCPU = append(ortCPU, res[0].CPUMS...)
		}
	}
	bytesPerRun := float64(allocBytes) / float64(runs)
	allocsPerRun := float64(allocs) / float64(runs)
	r := &benchResult{Name: en.Name, Model: path, Batch: batch, Runs: runs, Warmup: warmup, Threads: threads,
		Whittle: latencyOf(wall, cpu)}
	r.Whittle.BytesPerRun, r.Whittle.AllocsPerRun = &bytesPerRun, &allocsPerRun
	if ort {
		o := latencyOf(ortWall, ortCPU)
		ratio, cpuRatio := r.Whittle.MedianMS/o.MedianMS, r.Whittle.CPUMS/o.CPUMS
		r.ORT, r.WhittleOverORT, r.CPUOverORT = &o, &ratio, &cpuRatio
	}
	if ops > 0 {
		if r.Ops, err = benchOps(m, path, feeds, runs, warmup, threads, ops); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// benchFeeds makes random inputs of m's declared shapes, symbolic dimensions set to batch.
func benchFeeds(m *ir.Model, batch int64) (map[string]*runtime.Tensor, error) {
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
			return nil, err
		}
		// Unnamed unknown dimensions also take the batch size.
		for i, d := range v.Type.Dims {
			if !d.IsKnown() && d.Param == "" {
				t.Shape[i] = batch
			}
		}
		feeds[v.Name] = t
	}
	return feeds, nil
}

func latencyOf(wall, cpu []float64) benchLatency {
	med, p90 := percentiles(wall)
	cmed, _ := percentiles(cpu)
	return benchLatency{MedianMS: med, P90MS: p90, MinMS: minOf(wall), CPUMS: cmed}
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func percentiles(ms []float64) (median, p90 float64) {
	if len(ms) == 0 {
		return 0, 0
	}
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	return s[len(s)/2], s[(len(s)*9)/10]
}
