package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/compare"
	"github.com/whittle-ml/whittle/dataset"
)

func init() {
	register(&command{
		name:    "compare",
		args:    "A B [--data SPEC] [--per-layer] [--atol X --rtol Y --min-sqnr DB] [--json]",
		summary: "run two models on the same inputs and measure how far B's outputs are from A's",
		help: `
Runs model A (the reference) and model B with whittle's runtime on the same inputs — the
--data set (` + dataset.SpecHelp + `), or --samples random rows made from A's declared
input shapes — and reports for every output: max absolute error, max relative error
(max|b-a| / max|a|), mean absolute error, cosine similarity, SQNR in dB, top-1 and top-5
agreement for [N, C] classifier outputs (does B's top class, and B's top five, contain
A's top class), and each model's accuracy when the data has labels.

--per-layer also compares intermediate tensors paired by name: where B quantizes a value
(X -> QuantizeLinear -> DequantizeLinear) the DequantizeLinear output is compared with
A's X. Layers are ranked by the SQNR each loses relative to its nearest compared inputs,
which shows where error enters the network.

Tolerances: --atol/--rtol (every element must satisfy |b-a| <= atol + rtol·|a|) and
--min-sqnr. When one fails, compare exits with status 1, so CI can gate on it.

Examples:
  whittle compare cnn.onnx cnn.int8.onnx --data fashion-mnist:test
  whittle compare cnn.onnx cnn.int8.onnx --data fashion-mnist:test:1000 --per-layer
  whittle compare a.onnx b.onnx --atol 1e-5 --rtol 1e-4 --json
  whittle compare model.onnx model.opt.onnx --samples 16 --min-sqnr 100
  whittle compare resnet18.onnx resnet18.int8.onnx --data images:val --preprocess imagenet`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			applyThreads := threadsFlag(fs)
			data := fs.String("data", "", "input data `SPEC` (default: random inputs)")
			samples := fs.Int("samples", compare.DefaultRandomSamples, "random rows when no --data is given")
			seed := fs.Uint64("seed", 1, "seed of random inputs")
			batch := fs.Int("batch-size", compare.DefaultBatchSize, "rows per run")
			perLayer := fs.Bool("per-layer", false, "compare matched intermediate tensors and rank where error enters")
			top := fs.Int("top", 15, "layers shown with --per-layer (0: all)")
			atol := fs.Float64("atol", 0, "absolute tolerance")
			rtol := fs.Float64("rtol", 0, "relative tolerance")
			minSQNR := fs.Float64("min-sqnr", math.NaN(), "lowest acceptable output SQNR in `dB`")
			asJSON := jsonFlag(fs)
			preprocess := preprocessFlag(fs)
			reportPath := fs.String("report", "", "also write the HTML page of 'whittle report' for A and B to `FILE.html`")
			return func(e *env, args []string) error {
				defer applyThreads()()
				if err := exactArgs(args, 2, "two models A and B"); err != nil {
					return err
				}
				if *reportPath != "" && !isHTML(*reportPath) {
					return usagef("--report writes HTML: name a .html file")
				}

				if *atol < 0 || *rtol < 0 {
					return usagef("--atol and --rtol must be >= 0")
				}
				opts := compare.Options{RandomSamples: *samples, Seed: *seed, BatchSize: *batch, PerLayer: *perLayer,
					Tol: compare.Tolerance{Atol: *atol, Rtol: *rtol, MinSQNR: *minSQNR, HasMinSQNR: !math.IsNaN(*minSQNR)}}
				err := runCompare(e, args[0], args[1], *data, *preprocess, opts, *top, *asJSON)
				if *reportPath != "" {
					// The page is written whatever the tolerances said; a failure to write it
					// fails the command unless the comparison already did.
					if rerr := writeReport(e, args, *reportPath, reportData{spec: *data, preprocess: *preprocess, samples: *samples, runs: 5}); rerr != nil && err == nil {
						err = fmt.Errorf("--report: %w", rerr)
					}
				}
				return err
			}
		},
	})
}

// compareJSON is the --json output.
type compareJSON struct {
	A       string          `json:"a"`
	B       string          `json:"b"`
	Data    string          `json:"data"`
	Rows    int             `json:"rows"`
	Outputs []statsJSON     `json:"outputs"`
	AccA    *float64        `json:"accuracy_a,omitempty"`
	AccB    *float64        `json:"accuracy_b,omitempty"`
	Layers  []layerJSON     `json:"layers,omitempty"`
	Failed  bool            `json:"failed"`
	Fail    []string        `json:"failures,omitempty"`
	Tol     json.RawMessage `json:"tolerance,omitempty"`
}

type statsJSON struct {
	Name       string   `json:"name"`
	MaxAbs     float64  `json:"max_abs_error"`
	MaxRel     float64  `json:"max_rel_error"`
	MeanAbs    float64  `json:"mean_abs_error"`
	Cosine     float64  `json:"cosine"`
	SQNR       *float64 `json:"sqnr_db"` // null when B equals A exactly
	Top1       *float64 `json:"top1_agreement,omitempty"`
	Top5       *float64 `json:"top5_agreement,omitempty"`
	Violations int64    `json:"violations"`
	Problem    string   `json:"problem,omitempty"`
}

type layerJSON struct {
	A         string    `json:"a"`
	B         string    `json:"b"`
	Op        string    `json:"op"`
	Stats     statsJSON `json:"stats"`
	InputSQNR float64   `json:"input_sqnr_db"`
	Lost      float64   `json:"lost_db"`
}

func finite(x float64) *float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return nil
	}
	return &x
}

func toStatsJSON(s *compare.Stats) statsJSON {
	out := statsJSON{Name: s.Name, MaxAbs: s.MaxAbs, MaxRel: s.MaxRel(), MeanAbs: s.MeanAbs(), Cosine: s.Cosine(),
		SQNR: finite(s.SQNR()), Violations: s.Violations, Problem: s.Problem}
	if math.IsInf(out.MaxRel, 0) {
		out.MaxRel = -1
	}
	if s.Rows > 0 {
		out.Top1, out.Top5 = finite(s.Top1Agreement()), finite(s.Top5Agreement())
	}
	return out
}

func runCompare(e *env, pathA, pathB, spec, preprocess string, opts compare.Options, top int, asJSON bool) error {
	a, err := loadModel(e, pathA)
	if err != nil {
		return err
	}
	b, err := loadModel(e, pathB)
	if err != nil {
		return err
	}
	progress, finish := e.progressFunc()
	res, err := whittle.Compare(a, b, whittle.CompareOptions{Data: spec, Preprocess: preprocess, Options: opts, Progress: progress})
	finish()
	if err != nil {
		return err
	}
	dataName := spec
	if dataName == "" {
		dataName = fmt.Sprintf("%d random rows (seed %d)", res.Rows, opts.Seed)
	}
	if asJSON {
		out := compareJSON{A: pathA, B: pathB, Data: dataName, Rows: res.Rows, Failed: res.Failed(), Fail: res.Failures}
		for _, s := range res.Outputs {
			out.Outputs = append(out.Outputs, toStatsJSON(s))
		}
		if res.AccuracyA != nil {
			out.AccA, out.AccB = finite(res.AccuracyA.Top1()), finite(res.AccuracyB.Top1())
		}
		for _, l := range res.Ranked {
			out.Layers = append(out.Layers, layerJSON{A: l.A, B: l.B, Op: l.Op, Stats: toStatsJSON(l.Stats), InputSQNR: l.InputSQNR, Lost: l.Lost})
		}
		if err := printJSON(e, "compare", out); err != nil {
			return err
		}
	} else {
		printCompare(e.stdout, pathA, pathB, dataName, res, top)
	}
	if res.Failed() {
		if asJSON {
			return codeError{code: exitFail}
		}
		return codeError{code: exitFail, err: fmt.Errorf("tolerance failed:\n  %s", strings.Join(res.Failures, "\n  "))}
	}
	return nil
}

func fmtSQNR(s float64) string {
	if math.IsInf(s, 1) {
		return "inf (exact)"
	}
	return fmt.Sprintf("%.2f dB", s)
}

func printCompare(w io.Writer, pathA, pathB, data string, res *compare.Result, top int) {
	fmt.Fprintf(w, "A: %s\nB: %s\ndata: %s, %d rows\n\n", pathA, pathB, data, res.Rows)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "output\tmax abs\tmax rel\tmean abs\tcosine\tSQNR\ttop-1 agree\ttop-5 agree\n")
	for _, s := range res.Outputs {
		if s.Problem != "" {
			fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Problem)
			continue
		}
		t1, t5 := "-", "-"
		if s.Rows > 0 {
			t1, t5 = fmt.Sprintf("%.2f%%", 100*s.Top1Agreement()), fmt.Sprintf("%.2f%%", 100*s.Top5Agreement())
		}
		fmt.Fprintf(tw, "%s\t%.4g\t%.4g\t%.4g\t%.6f\t%s\t%s\t%s\n", s.Name, s.MaxAbs, s.MaxRel(), s.MeanAbs(), s.Cosine(), fmtSQNR(s.SQNR()), t1, t5)
	}
	tw.Flush()
	if res.AccuracyA != nil {
		fmt.Fprintf(w, "\naccuracy: A %.2f%%  B %.2f%%  (B - A = %+.2f pp; top-5 A %.2f%% B %.2f%%)\n",
			res.AccuracyA.Top1(), res.AccuracyB.Top1(), res.AccuracyB.Top1()-res.AccuracyA.Top1(),
			100*float64(res.AccuracyA.Top5)/float64(res.AccuracyA.Rows), 100*float64(res.AccuracyB.Top5)/float64(res.AccuracyB.Rows))
	}
	if len(res.Ranked) > 0 {
		fmt.Fprintf(w, "\nper layer: %d tensors matched; where error enters (dB of SQNR lost vs the layer's inputs):\n", len(res.Layers))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "rank\tA tensor\top\tB tensor\tSQNR\tinput SQNR\tlost\tcosine\tmax abs\n")
		for i, l := range res.Ranked {
			if top > 0 && i >= top {
				fmt.Fprintf(tw, "...\t%d more (--top 0 shows all)\n", len(res.Ranked)-i)
				break
			}
			b := l.B
			if l.ViaQDQ {
				b = "DQ:" + shorten(b, 40)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%.5f\t%.4g\n", i+1, shorten(l.A, 48), l.Op, b, fmtSQNR(l.Stats.SQNR()), l.InputSQNR, l.Lost, l.Stats.Cosine(), l.Stats.MaxAbs)
		}
		tw.Flush()
	}
	if res.Failed() {
		fmt.Fprintf(w, "\nFAIL\n")
	} else {
		fmt.Fprintf(w, "\nOK\n")
	}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n+1:]
}
