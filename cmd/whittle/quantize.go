package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/runtime/datafeed"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/stats"
	"github.com/whittle-ml/whittle/passes"
)

func init() {
	register(&command{
		name:    "quantize",
		args:    "IN -o OUT [--calibration SPEC] [--method M] [--dynamic | --weight-only] [--max-accuracy-drop PP --eval-data SPEC | --min-sqnr DB]",
		summary: "quantize a model to int8 (static QDQ with calibration, dynamic, or weight-only)",
		help: `
Static quantization (the default) inserts QuantizeLinear/DequantizeLinear pairs on
activations and stores weights as int8 (per output channel unless --per-channel=false)
and biases as int32, in the QDQ layout ONNX Runtime fuses into QLinearConv,
QLinearMatMul, QGemm... Activation ranges come from running the float model over the
--calibration data (a dataset spec: ` + dataset.SpecHelp + `) in one streaming pass;
--method picks how a range is derived: minmax (default), ema (moving-average min/max),
percentile (--percentile, default 99.999) or entropy (KL divergence over a 2048-bin
histogram). Histograms grow by doubling their range as larger values arrive, so no
first pass and no stored activations are needed.

Quantized: Conv, ConvTranspose, Gemm, MatMul, Add, Mul, Concat, pools, Softmax, Sigmoid;
Reshape/Transpose/Flatten/Squeeze/Unsqueeze/MaxPool/Resize/Gather share their input's
scale; a Relu or Clip after a quantized op is folded into its output range (removed with
uint8 activations, kept with int8 symmetric ones). Everything else stays float and is
listed with the reason. Activations are uint8 asymmetric, or int8 symmetric with
--activation-type int8 (zero point 0). --symmetric gives the layout TensorRT accepts:
int8 symmetric activations and weights, biases left float (TensorRT rejects int32
DequantizeLinear and quantizes biases itself).

--dynamic quantizes MatMul/Gemm with constant weights dynamically (DynamicQuantizeLinear
+ MatMulInteger + scale Mul; no calibration). --weight-only stores weights quantized and
leaves activations float; --weight-bits 4 stores MatMul/Gemm weights as int4 blocks
(--block-size) with DequantizeLinear-21, raising the opset import when --upgrade-opset
allows and the model's operators mean the same at 21.

Accuracy budget: --max-accuracy-drop PP (with labelled --eval-data) or --min-sqnr DB
(SQNR of the outputs against the float model, on --eval-data or the calibration data)
first scores the fully quantized model; if it misses, each layer's sensitivity is
measured by leaving it alone in float, and the most sensitive layers are left float one
by one until the budget holds. Sensitivity runs on the first --eval-samples rows; the
final model is then measured on the whole eval set.

A model whose opset is older than quantization needs (13 for per-channel weights, 11 for
--dynamic) is upgraded first with the convert_opset pass, with a notice; a model that
cannot be converted is refused with the operators that block it.

By default the float model is first cleaned with the lossless 'whittle optimize'
pipeline (BatchNormalization folded into Conv/Gemm, constants folded); --optimize=false
skips that.

Examples:
  whittle quantize cnn.onnx -o cnn.int8.onnx --calibration fashion-mnist:train:512
  whittle quantize cnn.onnx -o cnn.int8.onnx --calibration fashion-mnist:train:512 --method entropy
  whittle quantize resnet18.onnx -o resnet18.int8.onnx --calibration images:calib --preprocess imagenet
  whittle quantize vit.onnx -o vit.dyn.onnx --dynamic
  whittle quantize vit.onnx -o vit.w4.onnx --weight-only --weight-bits 4 --upgrade-opset
  whittle quantize cnn.onnx -o cnn.int8.onnx --calibration fashion-mnist:train:512 \
      --max-accuracy-drop 0.3 --eval-data fashion-mnist:test
  whittle quantize - -o - --dynamic < vit.onnx > vit.dyn.onnx

The quantization is recorded in OUT's metadata as a pipeline step (quantize_static,
quantize_dynamic or quantize_weights, with the layers a budget left float in its exclude
list), after the optimize pipeline that ran first: 'whittle optimize IN -o OUT --recipe'
with OUT's whittle.passes replays both.`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			var f quantizeFlags
			fs.StringVarP(&f.out, "output", "o", "", "output model `FILE` (required)")
			fs.StringVar(&f.calibration, "calibration", "", "calibration data `SPEC` (static quantization)")
			fs.StringVar(&f.preprocess, "preprocess", "", "how images:DIR data becomes input `SPEC`: "+dataset.PreprocessHelp)
			fs.StringVar(&f.method, "method", "minmax", "calibration method: minmax, ema, percentile, entropy")
			fs.Float64Var(&f.percentile, "percentile", passes.DefaultPercentile, "percentile of |x| kept by --method percentile")
			fs.IntVar(&f.batch, "batch-size", datafeed.DefaultBatch, "rows per calibration/evaluation run")
			fs.BoolVar(&f.perChannel, "per-channel", true, "one weight scale per output channel")
			fs.StringVar(&f.actType, "activation-type", "uint8", "uint8 (asymmetric) or int8 (symmetric)")
			fs.BoolVar(&f.symmetric, "symmetric", false, "TensorRT layout: int8 symmetric activations (zero point 0), float biases")
			fs.BoolVar(&f.floatBias, "float-bias", false, "leave biases float instead of int32")
			fs.BoolVar(&f.reduceRange, "reduce-range", false, "7-bit weights (AVX2 without VNNI)")
			fs.StringArrayVar(&f.exclude, "exclude", nil, "leave a node (by name) or every node of an op type float; repeatable")
			fs.StringVar(&f.opTypes, "op-types", "", "quantize only these ops (comma-separated `LIST`)")
			fs.BoolVar(&f.weightOnly, "weight-only", false, "quantize weights only")
			fs.IntVar(&f.weightBits, "weight-bits", 8, "weight bits for --weight-only: 8 or 4")
			fs.IntVar(&f.blockSize, "block-size", 32, "int4 block size along the reduction axis")
			fs.BoolVar(&f.upgradeOpset, "upgrade-opset", false, "allow raising the opset import to 21 for 4-bit weights")
			fs.BoolVar(&f.dynamic, "dynamic", false, "dynamic quantization of MatMul/Gemm (no calibration)")
			fs.Float64Var(&f.maxDrop, "max-accuracy-drop", -1, "accuracy budget in percentage `points` (needs labelled --eval-data)")
			fs.Float64Var(&f.minSQNR, "min-sqnr", math.NaN(), "output SQNR budget in `dB` against the float model")
			fs.StringVar(&f.evalData, "eval-data", "", "evaluation data `SPEC` for the budget")
			fs.IntVar(&f.evalSamples, "eval-samples", 2000, "rows of --eval-data used to measure sensitivity (0: all)")
			fs.IntVar(&f.maxFloat, "max-float", 0, "at most this many layers left float by the budget (0: no limit)")
			fs.BoolVar(&f.optimize, "optimize", true, "run the lossless optimize pipeline first")
			fs.StringVar(&f.stats, "stats", "", "calibrate from merged shard statistics (files matching `GLOB`, from 'whittle calibrate --shard')")
			fs.BoolVar(&f.json, "json", false, "print JSON instead of text (schema in docs/json.md)")
			fs.StringVar(&f.report, "report", "", "write a JSON report to `FILE` (FILE.html: the HTML page of 'whittle report')")
			withTimeout := timeoutFlag(fs)
			return func(e *env, args []string) error {
				if err := exactArgs(args, 1, "one input MODEL"); err != nil {
					return err
				}
				if f.out == "" {
					return usagef("-o OUT is required")
				}
				var stats *passes.CalibrationStats
				if f.stats != "" {
					if f.calibration != "" {
						return usagef("give --calibration or --stats, not both")
					}
					var err error
					if stats, err = loadStats(f.stats, args[0]); err != nil {
						return err
					}
					// The history records the data the statistics cover.
					f.calibration, f.preprocess = stats.Data, stats.Preprocess
					if !fs.Changed("method") {
						f.method = string(stats.Method)
					}
				}
				opts, err := f.options(fs)
				if err != nil {
					return err
				}
				opts.Stats = stats
				if err := e.startJSON(f.json, f.out); err != nil {
					return err
				}
				ctx, cancel := withTimeout(e.ctx)
				defer cancel()
				opts.Context = ctx
				err = runQuantize(e, args[0], f.out, f.report, opts)
				if cause := stopCause(ctx, err); cause != nil {
					return fmt.Errorf("%s: calibration %w", args[0], cause)
				}
				return err
			}
		},
	})
}

type quantizeFlags struct {
	stats                                                                    string
	json                                                                     bool
	out, calibration, preprocess, method, actType, opTypes, evalData, report string
	percentile, maxDrop, minSQNR                                             float64
	batch, weightBits, blockSize, evalSamples, maxFloat                      int
	perChannel, symmetric, floatBias, reduceRange, weightOnly                bool
	upgradeOpset, dynamic, optimize                                          bool
	exclude                                                                  []string
}

// options turns the flags into the library's options; contradictions are usage errors.
func (f *quantizeFlags) options(fs *pflag.FlagSet) (whittle.QuantizeOptions, error) {
	o := whittle.QuantizeOptions{Calibration: f.calibration, Preprocess: f.preprocess, Method: passes.CalibrationMethod(f.method),
		PerTensor: !f.perChannel, FloatBias: f.floatBias || f.symmetric, ReduceRange: f.reduceRange,
		Exclude: f.exclude, WeightBits: f.weightBits, BlockSize: f.blockSize, AllowOpsetUpgrade: f.upgradeOpset,
		SkipOptimize: !f.optimize}
	if fs.Changed("percentile") {
		o.Percentile = f.percentile
	}
	if fs.Changed("batch-size") {
		o.BatchSize = f.batch
	}
	switch strings.ToLower(f.actType) {
	case "uint8", "u8":
	case "int8", "s8":
		o.ActivationType = ir.Int8
	default:
		return o, usagef("--activation-type %q: want uint8 or int8", f.actType)
	}
	if f.symmetric {
		o.ActivationType = ir.Int8
	}
	for _, op := range strings.Split(f.opTypes, ",") {
		if op = strings.TrimSpace(op); op != "" {
			o.OpTypes = append(o.OpTypes, op)
		}
	}
	switch {
	case f.dynamic && f.weightOnly:
		return o, usagef("give --dynamic or --weight-only, not both")
	case f.weightBits != 8 && !f.weightOnly:
		return o, usagef("--weight-bits applies to --weight-only")
	case f.dynamic:
		o.Mode = whittle.Dynamic
	case f.weightOnly:
		o.Mode = whittle.WeightOnly
	}
	if _, err := passes.ParseCalibrationMethod(f.method); err != nil {
		return o, usagef("--method: %v", err)
	}
	if o.Mode == whittle.Static && f.calibration == "" {
		return o, usagef("static quantization needs --calibration SPEC (or use --dynamic / --weight-only)")
	}
	sqnr := !math.IsNaN(f.minSQNR)
	if (f.maxDrop >= 0 || sqnr) && o.Mode != whittle.Static {
		return o, usagef("the accuracy budget applies to static quantization")
	}
	if f.maxDrop >= 0 && f.evalData == "" {
		return o, usagef("--max-accuracy-drop needs labelled --eval-data")
	}
	switch {
	case f.maxDrop >= 0 && sqnr:
		return o, usagef("give --max-accuracy-drop or --min-sqnr, not both")
	case f.maxDrop >= 0:
		o.Budget = &whittle.Budget{Metric: whittle.AccuracyDrop, Limit: f.maxDrop}
	case sqnr:
		o.Budget = &whittle.Budget{Metric: whittle.OutputSQNR, Limit: f.minSQNR}
	}
	if o.Budget != nil {
		o.Budget.EvalData, o.Budget.EvalSamples, o.Budget.MaxFloat = f.evalData, f.evalSamples, f.maxFloat
	}
	return o, nil
}

// quantizeJSON is the --report file.
type quantizeJSON struct {
	Input  string                  `json:"input"`
	Output string                  `json:"output"`
	Step   string                  `json:"step"`
	Result *whittle.QuantizeResult `json:"result"`
}

func runQuantize(e *env, in, out, reportPath string, opts whittle.QuantizeOptions) error {
	m, err := loadModel(e, in)
	if err != nil {
		return err
	}
	w := e.textOut(out)
	progress, finish := e.progressFunc()
	opts.Progress = progress
	res, err := whittle.Quantize(m, opts)
	finish()
	if res != nil && res.Upgraded != "" {
		fmt.Fprintf(e.stderr, "note: %s\n", res.Upgraded)
	}
	if res != nil && res.CalibratedTensors > 0 {
		fmt.Fprintf(e.stderr, "calibrated %d tensors on %d rows (%s)\n", res.CalibratedTensors, res.CalibrationRows, opts.Method)
	}
	if res != nil && res.Budget != nil && res.Budget.BudgetResult != nil {
		printBudget(w, res.Budget)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := saveModel(e, out, m, whittle.SaveOptions{}); err != nil {
		return err
	}
	printQuantizeReport(w, res.Report)
	if res.Budget != nil {
		finiteBudget(res.Budget)
	}
	doc := quantizeJSON{Input: in, Output: out, Step: res.Step.String(), Result: res}
	if isHTML(reportPath) {
		spec := opts.Calibration
		if opts.Budget != nil && opts.Budget.EvalData != "" {
			spec = opts.Budget.EvalData
		}
		if err := writeReport(e, []string{in, out}, reportPath, reportData{spec: spec, preprocess: opts.Preprocess, limit: 1000, samples: 16, runs: 5}); err != nil {
			return err
		}
	} else if reportPath != "" {
		if err := writeJSONFile(reportPath, doc); err != nil {
			return err
		}
	}
	if e.jsonOut {
		return printJSON(e, "quantize", doc)
	}
	return nil
}

// printBudget prints what the accuracy-budget search measured.
func printBudget(w io.Writer, b *whittle.BudgetOutcome) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	unit := " dB SQNR"
	if b.FloatScore != nil {
		unit = "% top-1"
		fmt.Fprintf(tw, "float model\t%.2f%s on %d rows\n", *b.FloatScore, unit, b.ProbeRows)
	}
	fmt.Fprintf(tw, "fully quantized\t%.2f%s\n", b.FullScore, unit)
	if len(b.Sensitivity) > 0 {
		fmt.Fprintf(tw, "\nsensitivity (score gained by leaving one layer float):\n")
		for i, lc := range b.Sensitivity {
			if i >= 15 {
				fmt.Fprintf(tw, "  ... %d more\n", len(b.Sensitivity)-i)
				break
			}
			fmt.Fprintf(tw, "  %s\t%s\t%+.3f\n", lc.Node, lc.Op, lc.Gain)
		}
		fmt.Fprintf(tw, "\nkept float, in order:\n")
		for _, st := range b.Steps {
			fmt.Fprintf(tw, "  + %s\t→ %.3f%s\n", st.KeptFloat[len(st.KeptFloat)-1], st.Score, unit)
		}
	}
	status := "met"
	if !b.Met {
		status = "NOT met"
	}
	fmt.Fprintf(tw, "budget %s with %d layer(s) float: %.3f%s\n", status, len(b.KeptFloat), b.Score, unit)
	tw.Flush()
	if b.FinalRows > 0 {
		if b.FinalFloatScore != nil {
			fmt.Fprintf(w, "on all %d rows: float %.2f%%, quantized %.2f%% (drop %.2f pp)\n", b.FinalRows, *b.FinalFloatScore, b.FinalScore, *b.FinalFloatScore-b.FinalScore)
		} else {
			fmt.Fprintf(w, "on all %d rows: output SQNR %.2f dB\n", b.FinalRows, b.FinalScore)
		}
	}
}

func printQuantizeReport(w io.Writer, rep *passes.QuantizeReport) {
	fmt.Fprintf(w, "%s quantization: %d nodes quantized, %d QDQ pairs, %d weight tensors",
		rep.Mode, len(rep.Quantized), rep.QDQPairs, rep.Weights)
	if rep.FloatBytes > 0 {
		fmt.Fprintf(w, " (%s float -> %s)", stats.FormatBytes(rep.FloatBytes), stats.FormatBytes(rep.QuantBytes))
	}
	fmt.Fprintln(w)
	ops := map[string]int{}
	var order []string
	for _, q := range rep.Quantized {
		if ops[q.Op] == 0 {
			order = append(order, q.Op)
		}
		ops[q.Op]++
	}
	var parts []string
	for _, op := range order {
		parts = append(parts, fmt.Sprintf("%s×%d", op, ops[op]))
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "  quantized: %s\n", strings.Join(parts, " "))
	}
	if len(rep.Folded) > 0 {
		fmt.Fprintf(w, "  folded into the preceding range: %d Relu/Clip\n", len(rep.Folded))
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(w, "  left float:\n")
		for _, line := range rep.SkipSummary() {
			fmt.Fprintf(w, "    %s\n", line)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

// clampInf replaces an infinite score (the SQNR of a model left float) by ±999 and NaN
// by 0, so that the report is valid JSON.
func clampInf(x *float64) {
	switch {
	case math.IsInf(*x, 1):
		*x = 999
	case math.IsInf(*x, -1):
		*x = -999
	case math.IsNaN(*x):
		*x = 0
	}
}

// finiteBudget clamps every score of a budget outcome (see clampInf).
func finiteBudget(b *whittle.BudgetOutcome) {
	clampInf(&b.FinalScore)
	r := b.BudgetResult
	if r == nil {
		return
	}
	clampInf(&r.FullScore)
	clampInf(&r.Score)
	for i := range r.Sensitivity {
		clampInf(&r.Sensitivity[i].Gain)
	}
	for i := range r.Steps {
		clampInf(&r.Steps[i].Score)
	}
}
