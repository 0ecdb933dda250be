package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/whittle-ml/whittle/runtime/datafeed"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle/compare"
	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/stats"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
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
      --max-accuracy-drop 0.3 --eval-data fashion-mnist:test`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			a := quantizeArgs{}
			applyThreads := threadsFlag(fs)
			fs.StringVarP(&a.out, "output", "o", "", "output model `FILE` (required)")
			fs.StringVar(&a.calibration, "calibration", "", "calibration data `SPEC` (static quantization)")
			fs.StringVar(&a.method, "method", "minmax", "calibration method: minmax, ema, percentile, entropy")
			fs.Float64Var(&a.percentile, "percentile", passes.DefaultPercentile, "percentile of |x| kept by --method percentile")
			fs.IntVar(&a.batch, "batch-size", datafeed.DefaultBatch, "rows per calibration/evaluation run")
			fs.BoolVar(&a.perChannel, "per-channel", true, "one weight scale per output channel")
			fs.StringVar(&a.actType, "activation-type", "uint8", "uint8 (asymmetric) or int8 (symmetric)")
			fs.BoolVar(&a.symmetric, "symmetric", false, "TensorRT layout: int8 symmetric activations (zero point 0), float biases")
			fs.BoolVar(&a.floatBias, "float-bias", false, "leave biases float instead of int32")
			fs.BoolVar(&a.reduceRange, "reduce-range", false, "7-bit weights (AVX2 without VNNI)")
			fs.StringArrayVar(&a.exclude, "exclude", nil, "leave a node (by name) or every node of an op type float; repeatable")
			fs.StringVar(&a.opTypes, "op-types", "", "quantize only these ops (comma-separated `LIST`)")
			fs.BoolVar(&a.weightOnly, "weight-only", false, "quantize weights only")
			fs.IntVar(&a.weightBits, "weight-bits", 8, "weight bits for --weight-only: 8 or 4")
			fs.IntVar(&a.blockSize, "block-size", 32, "int4 block size along the reduction axis")
			fs.BoolVar(&a.upgradeOpset, "upgrade-opset", false, "allow raising the opset import to 21 for 4-bit weights")
			fs.BoolVar(&a.dynamic, "dynamic", false, "dynamic quantization of MatMul/Gemm (no calibration)")
			fs.Float64Var(&a.maxDrop, "max-accuracy-drop", -1, "accuracy budget in percentage `points` (needs labelled --eval-data)")
			fs.Float64Var(&a.minSQNR, "min-sqnr", math.NaN(), "output SQNR budget in `dB` against the float model")
			fs.StringVar(&a.evalData, "eval-data", "", "evaluation data `SPEC` for the budget")
			fs.IntVar(&a.evalSamples, "eval-samples", 2000, "rows of --eval-data used to measure sensitivity (0: all)")
			fs.IntVar(&a.maxFloat, "max-float", 0, "at most this many layers left float by the budget (0: no limit)")
			fs.BoolVar(&a.optimize, "optimize", true, "run the lossless optimize pipeline first")
			fs.StringVar(&a.report, "report", "", "write a JSON report to `FILE`")
			fs.StringVar(&a.preprocess, "preprocess", "", "how images:DIR data becomes input `SPEC`: "+dataset.PreprocessHelp)
			return func(e *env, args []string) error {
				defer applyThreads()()
				if err := exactArgs(args, 1, "one input MODEL"); err != nil {
					return err
				}
				a.in = args[0]
				if a.out == "" {
					return usagef("-o OUT is required")
				}
				a.sqnrSet = !math.IsNaN(a.minSQNR)
				return runQuantize(e, &a)
			}
		},
	})
}

type quantizeArgs struct {
	in, out, calibration, method string
	percentile                   float64
	batch                        int
	perChannel                   bool
	actType                      string
	symmetric, reduceRange       bool
	floatBias                    bool
	exclude                      []string
	opTypes                      string
	weightOnly                   bool
	weightBits, blockSize        int
	upgradeOpset, dynamic        bool
	maxDrop, minSQNR             float64
	sqnrSet                      bool
	evalData                     string
	evalSamples, maxFloat        int
	optimize                     bool
	report                       string
	preprocess                   string
}

// quantizeJSON is the --report file.
type quantizeJSON struct {
	Input       string                 `json:"input"`
	Output      string                 `json:"output"`
	Options     map[string]string      `json:"options"`
	Report      *passes.QuantizeReport `json:"report"`
	Budget      *passes.BudgetResult   `json:"budget,omitempty"`
	FinalScore  *float64               `json:"final_score,omitempty"`
	FloatScore  *float64               `json:"float_score,omitempty"`
	ScoreMetric string                 `json:"score_metric,omitempty"`
}

func (a *quantizeArgs) options() (passes.QuantizeOptions, error) {
	o := passes.DefaultQuantizeOptions()
	o.PerChannel, o.ReduceRange = a.perChannel, a.reduceRange
	switch strings.ToLower(a.actType) {
	case "uint8", "u8":
		o.ActivationType = ir.Uint8
	case "int8", "s8":
		o.ActivationType = ir.Int8
	default:
		return o, usagef("--activation-type %q: want uint8 or int8", a.actType)
	}
	if a.symmetric {
		o.ActivationType, o.FloatBias = ir.Int8, true
	}
	if a.floatBias {
		o.FloatBias = true
	}
	o.Exclude = a.exclude
	if a.opTypes != "" {
		for _, op := range strings.Split(a.opTypes, ",") {
			if op = strings.TrimSpace(op); op != "" {
				o.OpTypes = append(o.OpTypes, op)
			}
		}
	}
	o.WeightOnly, o.WeightBits, o.BlockSize = a.weightOnly, a.weightBits, a.blockSize
	o.AllowOpsetUpgrade, o.Dynamic = a.upgradeOpset, a.dynamic
	if a.weightBits != 8 && !a.weightOnly {
		return o, usagef("--weight-bits applies to --weight-only")
	}
	if a.dynamic && a.weightOnly {
		return o, usagef("give --dynamic or --weight-only, not both")
	}
	budget := a.maxDrop >= 0 || a.sqnrSet
	if budget && (a.dynamic || a.weightOnly) {
		return o, usagef("the accuracy budget applies to static quantization")
	}
	if a.maxDrop >= 0 && a.evalData == "" {
		return o, usagef("--max-accuracy-drop needs labelled --eval-data")
	}
	if !a.dynamic && !a.weightOnly && a.calibration == "" {
		return o, usagef("static quantization needs --calibration SPEC (or use --dynamic / --weight-only)")
	}
	return o, nil
}

func (a *quantizeArgs) step() passes.Step {
	p := passes.Params{}
	mode := "static"
	switch {
	case a.dynamic:
		mode = "dynamic"
	case a.weightOnly:
		mode = "weight-only"
		p["bits"] = strconv.Itoa(a.weightBits)
	default:
		p["calibration"] = a.calibration
		p["method"] = a.method
	}
	p["mode"] = mode
	p["per_channel"] = strconv.FormatBool(a.perChannel)
	p["activation_type"] = a.actType
	if a.symmetric {
		p["activation_type"] = "int8"
	}
	if len(a.exclude) > 0 {
		p["exclude"] = strings.Join(a.exclude, ";")
	}
	if a.maxDrop >= 0 {
		p["max_accuracy_drop"] = strconv.FormatFloat(a.maxDrop, 'g', -1, 64)
	}
	if a.sqnrSet {
		p["min_sqnr"] = strconv.FormatFloat(a.minSQNR, 'g', -1, 64)
	}
	return passes.Step{Pass: "quantize", Params: p}
}

func runQuantize(e *env, a *quantizeArgs) error {
	opts, err := a.options()
	if err != nil {
		return err
	}
	method, err := passes.ParseCalibrationMethod(a.method)
	if err != nil {
		return usagef("--method: %v", err)
	}
	m, err := loadModel(a.in)
	if err != nil {
		return err
	}
	if a.optimize {
		if _, err := passes.Run(&passes.Context{Eval: runtime.ConstEvaluator{}, ToolVersion: version()}, m, passes.Default()); err != nil {
			return fmt.Errorf("%s: optimize before quantizing: %w", a.in, err)
		}
	}
	ctx := &passes.Context{ToolVersion: version()}
	out := &quantizeJSON{Input: a.in, Output: a.out, Options: a.step().Params}
	var rep *passes.QuantizeReport
	// Old opsets (Paddle2ONNX writes 9) are upgraded rather than refused.
	from, to, err := passes.UpgradeForQuantization(ctx, m, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", a.in, err)
	}
	var upgraded string
	if to != from {
		upgraded = fmt.Sprintf("opset import raised from %d to %d with convert_opset (quantization needs %d)", from, to, to)
		fmt.Fprintf(e.stderr, "note: %s\n", upgraded)
	}
	switch {
	case a.dynamic:
		rep, err = passes.QuantizeDynamic(ctx, m, opts)
	case a.weightOnly:
		rep, err = passes.QuantizeWeights(ctx, m, opts)
	default:
		if _, err := passes.PrepareForQuantization(ctx, m); err != nil {
			return fmt.Errorf("%s: %w", a.in, err)
		}
		var ranges map[string]passes.Range
		ranges, err = calibrate(e, m, opts, a, method)
		if err != nil {
			return err
		}
		if a.maxDrop >= 0 || a.sqnrSet {
			var q *ir.Model
			q, err = fitBudget(e, m, opts, ranges, a, ctx, out)
			if err == nil {
				m, rep = q, out.Budget.Report
			}
		} else {
			rep, err = passes.QuantizeStatic(ctx, m, opts, ranges)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", a.in, err)
	}
	if upgraded != "" {
		rep.Notes = append([]string{upgraded}, rep.Notes...)
	}
	out.Report = rep
	if err := m.Verify(); err != nil {
		return fmt.Errorf("%s: the quantized model is invalid:\n%w", a.in, err)
	}
	if err := passes.RecordQuantization(ctx, m, a.step()); err != nil {
		return err
	}
	if err := onnx.SaveModel(a.out, m, onnx.WriteOptions{}); err != nil {
		return err
	}
	printQuantizeReport(e.stdout, rep)
	if a.report != "" {
		if out.Budget != nil {
			finiteBudget(out.Budget)
		}
		if out.FinalScore != nil {
			clampInf(out.FinalScore)
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		if err := onnx.WriteFileAtomic(a.report, func(w io.Writer) error {
			_, err := w.Write(append(b, '\n'))
			return err
		}); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	fmt.Fprintf(e.stderr, "wrote %s\n", a.out)
	return nil
}

// calibrate runs the float model over the calibration data, with a progress bar on a
// terminal, and derives the ranges the plan needs.
func calibrate(e *env, m *ir.Model, opts passes.QuantizeOptions, a *quantizeArgs, method passes.CalibrationMethod) (map[string]passes.Range, error) {
	plan, err := passes.PlanQuantization(m, opts)
	if err != nil {
		return nil, err
	}
	data, err := openData(a.calibration, a.preprocess)
	if err != nil {
		return nil, fmt.Errorf("--calibration: %w", err)
	}
	bar := newProgress(e, data.Len(), "calibrating")
	done := 0
	cal := &datafeed.Calibrator{Data: data, BatchSize: a.batch, Progress: func(d, _ int) {
		bar.Add(d - done)
		done = d
	}}
	ranges, err := passes.CollectRanges(m, plan.CalibrationTensors(), cal, passes.CalibrationOptions{Method: method, Percentile: a.percentile})
	bar.Finish()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.stderr, "calibrated %d tensors on %d rows (%s)\n", len(ranges), data.Len(), method)
	return ranges, nil
}

// fitBudget runs the accuracy-budget search: sensitivity on the first --eval-samples rows,
// then the final model measured on the whole eval set.
func fitBudget(e *env, m *ir.Model, opts passes.QuantizeOptions, ranges map[string]passes.Range, a *quantizeArgs, ctx *passes.Context, out *quantizeJSON) (*ir.Model, error) {
	spec := a.evalData
	if spec == "" {
		spec = a.calibration
	}
	full, err := openData(spec, a.preprocess)
	if err != nil {
		return nil, fmt.Errorf("--eval-data: %w", err)
	}
	probe := full
	if a.evalSamples > 0 {
		probe = dataset.Head(full, a.evalSamples)
	}
	byAccuracy := a.maxDrop >= 0
	score := func(r *compare.Result) (float64, error) {
		if byAccuracy {
			if r.AccuracyB == nil {
				return 0, fmt.Errorf("--max-accuracy-drop: the eval data %s has no labels", spec)
			}
			return r.AccuracyB.Top1(), nil
		}
		worst := math.Inf(1)
		for _, s := range r.Outputs {
			worst = math.Min(worst, s.SQNR())
		}
		return worst, nil
	}
	fmt.Fprintf(e.stderr, "budget: float reference on %d rows\n", probe.Len())
	ref, err := compare.NewReference(m, probe, a.batch)
	if err != nil {
		return nil, fmt.Errorf("float model: %w", err)
	}
	floatScore := math.Inf(1)
	metric := "sqnr_db"
	if byAccuracy {
		if ref.Accuracy() == nil {
			return nil, fmt.Errorf("--max-accuracy-drop: the eval data %s has no labels", spec)
		}
		floatScore, metric = ref.Accuracy().Top1(), "top1_percent"
	}
	meets := func(s float64) bool {
		if byAccuracy {
			return floatScore-s <= a.maxDrop
		}
		return s >= a.minSQNR
	}
	steps := 0
	q, res, err := passes.FitQuantizationBudget(ctx, m, opts, ranges, passes.Budget{
		Score: func(qm *ir.Model) (float64, error) {
			r, err := ref.Compare(qm, compare.Tolerance{})
			if err != nil {
				return 0, err
			}
			return score(r)
		},
		Meets:    meets,
		MaxFloat: a.maxFloat,
		Progress: func(step string) {
			steps++
			if e.stderrTerminal || steps%5 == 1 {
				fmt.Fprintf(e.stderr, "budget: %s\n", step)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	out.Budget, out.ScoreMetric = res, metric
	if byAccuracy {
		fs := floatScore
		out.FloatScore = &fs
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	unit := " dB SQNR"
	if byAccuracy {
		unit = "% top-1"
		fmt.Fprintf(w, "float model\t%.2f%s on %d rows\n", floatScore, unit, probe.Len())
	}
	fmt.Fprintf(w, "fully quantized\t%.2f%s\n", res.FullScore, unit)
	if len(res.Sensitivity) > 0 {
		fmt.Fprintf(w, "\nsensitivity (score gained by leaving one layer float):\n")
		for i, lc := range res.Sensitivity {
			if i >= 15 {
				fmt.Fprintf(w, "  ... %d more\n", len(res.Sensitivity)-i)
				break
			}
			fmt.Fprintf(w, "  %s\t%s\t%+.3f\n", lc.Node, lc.Op, lc.Gain)
		}
		fmt.Fprintf(w, "\nkept float, in order:\n")
		for _, st := range res.Steps {
			fmt.Fprintf(w, "  + %s\t→ %.3f%s\n", st.KeptFloat[len(st.KeptFloat)-1], st.Score, unit)
		}
	}
	status := "met"
	if !res.Met {
		status = "NOT met"
	}
	fmt.Fprintf(w, "budget %s with %d layer(s) float: %.3f%s\n", status, len(res.KeptFloat), res.Score, unit)
	w.Flush()
	if probe.Len() != full.Len() {
		fref, err := compare.NewReference(m, full, a.batch)
		if err != nil {
			return nil, err
		}
		r, err := fref.Compare(q, compare.Tolerance{})
		if err != nil {
			return nil, err
		}
		fsScore, err := score(r)
		if err != nil {
			return nil, err
		}
		if byAccuracy {
			fmt.Fprintf(e.stdout, "on all %d rows: float %.2f%%, quantized %.2f%% (drop %.2f pp)\n", full.Len(), fref.Accuracy().Top1(), fsScore, fref.Accuracy().Top1()-fsScore)
			ff := fref.Accuracy().Top1()
			out.FloatScore = &ff
		} else {
			fmt.Fprintf(e.stdout, "on all %d rows: output SQNR %.2f dB\n", full.Len(), fsScore)
		}
		out.FinalScore = &fsScore
	} else {
		s := res.Score
		out.FinalScore = &s
	}
	if !res.Met {
		return nil, fmt.Errorf("the budget could not be met (best %.3f%s with %d layers float)", res.Score, unit, len(res.KeptFloat))
	}
	return q, nil
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

// finiteBudget clamps every score of a budget result (see clampInf).
func finiteBudget(r *passes.BudgetResult) {
	clampInf(&r.FullScore)
	clampInf(&r.Score)
	for i := range r.Sensitivity {
		clampInf(&r.Sensitivity[i].Gain)
	}
	for i := range r.Steps {
		clampInf(&r.Steps[i].Score)
	}
}
