package whittle

import (
	"context"
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/compare"
	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/provenance"
)

// QuantizeMode picks how Quantize quantizes.
type QuantizeMode int

// The quantization modes.
const (
	// Static inserts QuantizeLinear/DequantizeLinear pairs on activations, with ranges
	// calibrated on data, and stores weights int8 and biases int32 (the QDQ layout ONNX
	// Runtime fuses into integer kernels).
	Static QuantizeMode = iota
	// Dynamic quantizes MatMul/Gemm with constant weights the transformer way: inputs
	// quantized at run time (DynamicQuantizeLinear + MatMulInteger); no calibration.
	Dynamic
	// WeightOnly stores weights quantized (int8, or blocked int4) behind a
	// DequantizeLinear and leaves activations float.
	WeightOnly
)

func (m QuantizeMode) String() string {
	switch m {
	case Dynamic:
		return "dynamic"
	case WeightOnly:
		return "weight-only"
	}
	return "static"
}

// QuantizeOptions tune Quantize. The zero value is static per-channel int8 quantization
// with uint8 activations, which needs Calibration.
type QuantizeOptions struct {
	Mode QuantizeMode
	// Calibration is the calibration data of static quantization: a dataset spec
	// (dataset.SpecHelp), such as "fashion-mnist:train:512".
	Calibration string
	// Preprocess says how images:DIR data (calibration and evaluation) becomes model
	// inputs: a preprocessing spec (dataset.PreprocessHelp) such as "imagenet".
	Preprocess string
	// Method derives ranges: passes.MinMax (default), MovingAverageMinMax, Percentile
	// (Percentile, default 99.999) or Entropy.
	Method     passes.CalibrationMethod
	Percentile float64
	// BatchSize is the rows per calibration and evaluation run (0: 32).
	BatchSize int
	// PerTensor uses one weight scale per tensor instead of one per output channel.
	PerTensor bool
	// ActivationType is ir.Uint8 (asymmetric, the default) or ir.Int8 (symmetric, zero
	// point 0).
	ActivationType ir.DataType
	// FloatBias leaves biases float (TensorRT's layout, with ir.Int8 activations).
	FloatBias bool
	// ReduceRange stores 7-bit weights (AVX2 kernels without VNNI).
	ReduceRange bool
	// Exclude lists node names or op types left float; OpTypes, when set, limits
	// quantization to these op types.
	Exclude, OpTypes []string
	// WeightBits is 8 (default) or 4 (WeightOnly: blocked int4 MatMul/Gemm weights of
	// BlockSize, default 32, needing opset 21, which AllowOpsetUpgrade may raise).
	WeightBits, BlockSize int
	AllowOpsetUpgrade     bool
	// SkipOptimize skips the lossless optimize pipeline (BatchNormalization folded into
	// Conv, constants folded) that runs first by default.
	SkipOptimize bool
	// Stats, when set with static quantization, are the merged statistics of a calibration
	// spread over shards (Calibrate, passes.MergeCalibrationStats): ranges come from them
	// and no data is read. Calibration names the data they cover, for the history.
	Stats *passes.CalibrationStats
	// Budget, when set with static quantization, leaves the layers most sensitive to
	// quantization float until the quantized model meets it.
	Budget *Budget
	// Progress, when set, is told about calibration batches and budget steps.
	Progress func(Progress)
	// Context, when set, cancels calibration (between batches and model nodes): a
	// deadline or an interrupt stops Quantize with the context's error.
	Context context.Context
	// ToolVersion is recorded in the history (empty: Version()).
	ToolVersion string
}

// BudgetMetric is what an accuracy budget measures.
type BudgetMetric string

// The budget metrics.
const (
	// AccuracyDrop: top-1 accuracy lost against the float model, in percentage points
	// (needs labelled EvalData); the budget holds when the drop is at most Limit.
	AccuracyDrop BudgetMetric = "accuracy_drop"
	// OutputSQNR: the lowest SQNR of the outputs against the float model, in dB; the
	// budget holds when it is at least Limit.
	OutputSQNR BudgetMetric = "sqnr"
)

// Budget is an accuracy budget for static quantization.
type Budget struct {
	Metric BudgetMetric
	Limit  float64
	// EvalData is the evaluation data (a dataset spec); empty means the calibration data
	// (OutputSQNR only).
	EvalData string
	// EvalSamples is the rows of EvalData used to measure each layer's sensitivity (0:
	// all); the final model is then measured on all of EvalData.
	EvalSamples int
	// MaxFloat bounds the layers left float (0: no bound).
	MaxFloat int
}

// BudgetOutcome is what the budget search found and measured.
type BudgetOutcome struct {
	*passes.BudgetResult
	// Metric names the scores: "top1_percent" or "sqnr_db".
	Metric string `json:"score_metric"`
	// ProbeRows is the rows the search measured on; FloatScore the float model's score
	// there (accuracy budgets only).
	ProbeRows  int      `json:"probe_rows"`
	FloatScore *float64 `json:"float_score,omitempty"`
	// FinalRows, FinalScore and FinalFloatScore measure the chosen model (and the float
	// one) on all of the evaluation data; FinalRows is 0 when the probe was all of it.
	FinalRows       int      `json:"final_rows,omitempty"`
	FinalScore      float64  `json:"final_score"`
	FinalFloatScore *float64 `json:"final_float_score,omitempty"`
}

// QuantizeResult is what Quantize did.
type QuantizeResult struct {
	Mode string `json:"mode"`
	// Optimized is the lossless optimize run before quantizing (nil with SkipOptimize).
	Optimized *passes.Report `json:"optimized,omitempty"`
	// Report lists the nodes quantized, those left float and why, the weight sizes.
	Report *passes.QuantizeReport `json:"report"`
	// Step is the quantization as recorded in the history.
	Step passes.Step `json:"step"`
	// CalibrationRows and CalibratedTensors describe the calibration run (static).
	CalibrationRows   int `json:"calibration_rows,omitempty"`
	CalibratedTensors int `json:"calibrated_tensors,omitempty"`
	// Upgraded says how the opset import was raised for quantization (empty: it was not).
	Upgraded string `json:"upgraded,omitempty"`
	// Budget is set when the options had one.
	Budget *BudgetOutcome `json:"budget,omitempty"`
	Applied
}

// passOptions returns the pass options and calibration o stands for, checked.
func (o QuantizeOptions) passOptions() (passes.QuantizeOptions, passes.CalibrationSpec, error) {
	q := passes.DefaultQuantizeOptions()
	cal := passes.CalibrationSpec{Data: o.Calibration, Preprocess: o.Preprocess, Method: o.Method, Percentile: o.Percentile, BatchSize: o.BatchSize}
	q.PerChannel = !o.PerTensor
	if o.ActivationType != 0 {
		q.ActivationType = o.ActivationType
	}
	q.FloatBias, q.ReduceRange = o.FloatBias, o.ReduceRange
	q.Exclude, q.OpTypes = o.Exclude, o.OpTypes
	if o.WeightBits != 0 {
		q.WeightBits = o.WeightBits
	}
	if o.BlockSize != 0 {
		q.BlockSize = o.BlockSize
	}
	q.AllowOpsetUpgrade = o.AllowOpsetUpgrade
	switch o.Mode {
	case Static:
		if o.Calibration == "" {
			return q, cal, optionsErrorf("static quantization needs calibration data (or use dynamic / weight-only quantization)")
		}
		if cal.Method == "" {
			cal.Method = passes.MinMax
		}
		m, err := passes.ParseCalibrationMethod(string(cal.Method))
		if err != nil {
			return q, cal, fmt.Errorf("%w: %w", ErrOptions, err)
		}
		cal.Method = m
		if q.WeightBits != 8 {
			return q, cal, optionsErrorf("4-bit weights are weight-only")
		}
	case Dynamic:
		q.Dynamic = true
	case WeightOnly:
		q.WeightOnly = true
	default:
		return q, cal, optionsErrorf("quantize mode %d", o.Mode)
	}
	if o.BatchSize < 0 {
		return q, cal, optionsErrorf("batch size %d", o.BatchSize)
	}
	if o.Budget != nil {
		if o.Mode != Static {
			return q, cal, optionsErrorf("the accuracy budget applies to static quantization")
		}
		switch o.Budget.Metric {
		case AccuracyDrop:
			if o.Budget.EvalData == "" {
				return q, cal, optionsErrorf("an accuracy-drop budget needs labelled evaluation data")
			}
		case OutputSQNR:
		default:
			return q, cal, optionsErrorf("budget metric %q: want %s or %s", o.Budget.Metric, AccuracyDrop, OutputSQNR)
		}
	}
	// The step's parser checks the rest (activation type, bits, block size) as a replay
	// would.
	_, _, err := passes.ParseQuantizeStep(passes.QuantizeStep(q, cal))
	if err != nil {
		return q, cal, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	return q, cal, nil
}

// Quantize quantizes m in place (see QuantizeMode), after the lossless optimize pipeline
// unless SkipOptimize, and records both in m's history. Static quantization prepares the
// model (PrepareForQuantization) once, calibrates it in one streaming pass over the
// calibration data and quantizes; with a Budget it then leaves the most sensitive layers
// float until the budget holds, and records the layers it left float in the step's
// exclude list, so that replaying the history reproduces the model without the search.
// When the budget cannot be met the error wraps ErrBudgetMissed, the result describes
// the search, and m is left float (optimized and prepared).
func Quantize(m *ir.Model, opts QuantizeOptions) (*QuantizeResult, error) {
	qo, cal, err := opts.passOptions()
	if err != nil {
		return nil, err
	}
	res := &QuantizeResult{Mode: opts.Mode.String()}
	if !opts.SkipOptimize {
		p := passes.Default()
		rep, err := passes.Run(PassContext(opts.ToolVersion), m, p)
		if err != nil {
			return nil, fmt.Errorf("optimize before quantizing: %w", classify(err))
		}
		res.Optimized = rep
		res.Applied.Applied = append(res.Applied.Applied, p)
	}
	// Old opsets (Paddle2ONNX writes 9) are upgraded with convert_opset, recorded as a
	// pipeline of its own, rather than refused.
	from, to, err := passes.UpgradeForQuantization(PassContext(opts.ToolVersion), m, qo)
	if err != nil {
		return nil, classify(err)
	}
	if to != from {
		res.Upgraded = fmt.Sprintf("opset import raised from %d to %d with convert_opset (quantization needs %d)", from, to, to)
		h, err := provenance.History(m)
		if err != nil {
			return nil, err
		}
		res.Applied.Applied = append(res.Applied.Applied, passes.Pipeline(h[len(h)-1].Pipeline))
	}
	ctx := PassContext(opts.ToolVersion)
	ctx.Calibration = DatasetCalibration{Ctx: opts.Context, Progress: opts.Progress, Stats: opts.Stats, OnCalibrate: func(_ string, rows, tensors int) {
		res.CalibrationRows, res.CalibratedTensors = rows, tensors
	}}
	if opts.Budget != nil {
		err := ctx.As("quantize_static", func() error { return quantizeWithBudget(ctx, m, qo, cal, opts, res) })
		if err != nil {
			return res, err
		}
	} else {
		res.Step = passes.QuantizeStep(qo, cal)
		ctx.OnReport = func(_ string, rep any) { res.Report, _ = rep.(*passes.QuantizeReport) }
		if _, err := passes.Run(ctx, m, passes.Pipeline{res.Step}); err != nil {
			return nil, classify(err)
		}
		res.Applied.Applied = append(res.Applied.Applied, passes.Pipeline{res.Step})
	}
	if err := m.Verify(); err != nil {
		return nil, fmt.Errorf("the quantized model is invalid:\n%w", err)
	}
	if res.Upgraded != "" && res.Report != nil {
		res.Report.Notes = append([]string{res.Upgraded}, res.Report.Notes...)
	}
	return res, nil
}

// quantizeWithBudget calibrates m, searches the budget and replaces m by the model found.
func quantizeWithBudget(ctx *passes.Context, m *ir.Model, qo passes.QuantizeOptions, cal passes.CalibrationSpec, opts QuantizeOptions, res *QuantizeResult) error {
	b := opts.Budget
	ranges, err := passes.CalibrateStatic(ctx, m, qo, cal)
	if err != nil {
		return classify(err)
	}
	spec := b.EvalData
	if spec == "" {
		spec = opts.Calibration
	}
	full, err := OpenData(spec, opts.Preprocess)
	if err != nil {
		return fmt.Errorf("evaluation data: %w", err)
	}
	probe := full
	if b.EvalSamples > 0 {
		probe = dataset.Head(full, b.EvalSamples)
	}
	byAccuracy := b.Metric == AccuracyDrop
	out := &BudgetOutcome{Metric: "sqnr_db", ProbeRows: probe.Len()}
	res.Budget = out
	score := func(r *compare.Result) (float64, error) {
		if byAccuracy {
			if r.AccuracyB == nil {
				return 0, optionsErrorf("the evaluation data %s has no labels", spec)
			}
			return r.AccuracyB.Top1(), nil
		}
		worst := math.Inf(1)
		for _, s := range r.Outputs {
			worst = math.Min(worst, s.SQNR())
		}
		return worst, nil
	}
	say := func(msg string) {
		if opts.Progress != nil {
			opts.Progress(Progress{Stage: "budget", Message: msg})
		}
	}
	say(fmt.Sprintf("float reference on %d rows", probe.Len()))
	ref, err := compare.NewReference(m, probe, opts.BatchSize)
	if err != nil {
		return fmt.Errorf("float model: %w", classify(err))
	}
	floatScore := math.Inf(1)
	if byAccuracy {
		if ref.Accuracy() == nil {
			return optionsErrorf("the evaluation data %s has no labels", spec)
		}
		floatScore, out.Metric = ref.Accuracy().Top1(), "top1_percent"
		fs := floatScore
		out.FloatScore = &fs
	}
	meets := func(s float64) bool {
		if byAccuracy {
			return floatScore-s <= b.Limit
		}
		return s >= b.Limit
	}
	q, br, err := passes.FitQuantizationBudget(ctx, m, qo, ranges, passes.Budget{
		Score: func(qm *ir.Model) (float64, error) {
			r, err := ref.Compare(qm, compare.Tolerance{})
			if err != nil {
				return 0, classify(err)
			}
			return score(r)
		},
		Meets:    meets,
		MaxFloat: b.MaxFloat,
		Progress: say,
	})
	if err != nil {
		return err
	}
	out.BudgetResult, out.FinalScore = br, br.Score
	res.Report = br.Report
	if probe.Len() != full.Len() {
		fref, err := compare.NewReference(m, full, opts.BatchSize)
		if err != nil {
			return classify(err)
		}
		r, err := fref.Compare(q, compare.Tolerance{})
		if err != nil {
			return classify(err)
		}
		if out.FinalScore, err = score(r); err != nil {
			return err
		}
		out.FinalRows = full.Len()
		if byAccuracy {
			ff := fref.Accuracy().Top1()
			out.FinalFloatScore = &ff
		}
	}
	if !br.Met {
		return fmt.Errorf("%w (best %.3f %s with %d layer(s) float)", ErrBudgetMissed, br.Score, out.Metric, len(br.KeptFloat))
	}
	// Record the model found as the static step that makes it directly: the layers the
	// search left float join the exclude list.
	qo.Exclude = append(append([]string(nil), qo.Exclude...), br.KeptFloat...)
	res.Step = passes.QuantizeStep(qo, cal)
	if err := passes.Record(ctx, q, passes.Pipeline{res.Step}); err != nil {
		return err
	}
	res.Applied.Applied = append(res.Applied.Applied, passes.Pipeline{res.Step})
	*m = *q
	return nil
}
