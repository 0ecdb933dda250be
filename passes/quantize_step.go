package passes

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir"
)

// Quantization as pipeline steps. Each mode is a registered pass (quantize_static,
// quantize_dynamic, quantize_weights) whose parameters say everything the result depends
// on, so that the step a workflow records in a model's metadata replays it: QuantizeStep
// writes the step, ParseQuantizeStep reads it back.

// CalibrationSpec names the calibration of static quantization as a step records it.
type CalibrationSpec struct {
	// Data is the dataset spec the Context's CalibrationSource opens, and Preprocess how
	// its images become model inputs (a preprocessing spec; empty: the source's default).
	Data       string
	Preprocess string
	// Method and Percentile derive ranges (see CalibrationOptions; zero: the defaults).
	Method     CalibrationMethod
	Percentile float64
	// BatchSize is the rows per calibration run (0: the source's default). It changes
	// the ranges of the moving-average method only, but is recorded whenever set.
	BatchSize int
}

func (c CalibrationSpec) options() CalibrationOptions {
	return CalibrationOptions{Method: c.Method, Percentile: c.Percentile}
}

// QuantizeStep describes quantization with opts (and cal, for static quantization) as
// the pipeline step that reproduces it. Parameters at their default are left out, except
// the calibration data and method of a static step.
func QuantizeStep(opts QuantizeOptions, cal CalibrationSpec) Step {
	def := DefaultQuantizeOptions()
	p := Params{}
	setBool := func(key string, v, d bool) {
		if v != d {
			p[key] = strconv.FormatBool(v)
		}
	}
	setBool("per_channel", opts.PerChannel, def.PerChannel)
	setBool("reduce_range", opts.ReduceRange, def.ReduceRange)
	if len(opts.Exclude) > 0 {
		p["exclude"] = strings.Join(opts.Exclude, ";")
	}
	if len(opts.OpTypes) > 0 {
		p["op_types"] = strings.Join(opts.OpTypes, ";")
	}
	switch {
	case opts.Dynamic:
		return Step{Pass: "quantize_dynamic", Params: nilIfEmpty(p)}
	case opts.WeightOnly:
		p["bits"] = strconv.Itoa(opts.WeightBits)
		if opts.WeightBits == 4 {
			p["block_size"] = strconv.Itoa(opts.BlockSize)
		}
		setBool("upgrade_opset", opts.AllowOpsetUpgrade, false)
		return Step{Pass: "quantize_weights", Params: p}
	}
	p["calibration"] = cal.Data
	if cal.Preprocess != "" {
		p["preprocess"] = cal.Preprocess
	}
	method := cal.Method
	if method == "" {
		method = MinMax
	}
	p["method"] = string(method)
	if method == Percentile && cal.Percentile > 0 {
		p["percentile"] = strconv.FormatFloat(cal.Percentile, 'g', -1, 64)
	}
	if cal.BatchSize > 0 {
		p["batch_size"] = strconv.Itoa(cal.BatchSize)
	}
	if opts.ActivationType == ir.Int8 {
		p["activation_type"] = "int8"
	}
	setBool("float_bias", opts.FloatBias, false)
	return Step{Pass: "quantize_static", Params: p}
}

func nilIfEmpty(p Params) Params {
	if len(p) == 0 {
		return nil
	}
	return p
}

// ParseQuantizeStep reads a quantize_static, quantize_dynamic or quantize_weights step.
func ParseQuantizeStep(st Step) (QuantizeOptions, CalibrationSpec, error) {
	o := DefaultQuantizeOptions()
	var cal CalibrationSpec
	p := st.Params
	var err error
	if o.PerChannel, err = p.Bool("per_channel", true); err != nil {
		return o, cal, err
	}
	if o.ReduceRange, err = p.Bool("reduce_range", false); err != nil {
		return o, cal, err
	}
	o.Exclude = splitList(p.String("exclude", ""))
	o.OpTypes = splitList(p.String("op_types", ""))
	switch st.Pass {
	case "quantize_dynamic":
		o.Dynamic = true
	case "quantize_weights":
		o.WeightOnly = true
		bits, err := p.Int("bits", 8)
		if err != nil {
			return o, cal, err
		}
		bs, err := p.Int("block_size", 32)
		if err != nil {
			return o, cal, err
		}
		o.WeightBits, o.BlockSize = int(bits), int(bs)
		if o.AllowOpsetUpgrade, err = p.Bool("upgrade_opset", false); err != nil {
			return o, cal, err
		}
	case "quantize_static":
		cal.Data = p.String("calibration", "")
		cal.Preprocess = p.String("preprocess", "")
		if cal.Data == "" {
			return o, cal, fmt.Errorf("quantize_static needs calibration=SPEC (a dataset spec)")
		}
		if cal.Method, err = ParseCalibrationMethod(p.String("method", string(MinMax))); err != nil {
			return o, cal, err
		}
		if cal.Percentile, err = p.Float("percentile", 0); err != nil {
			return o, cal, err
		}
		bs, err := p.Int("batch_size", 0)
		if err != nil || bs < 0 {
			return o, cal, fmt.Errorf("parameter batch_size=%q: want a count >= 0", p["batch_size"])
		}
		cal.BatchSize = int(bs)
		switch at := strings.ToLower(p.String("activation_type", "uint8")); at {
		case "uint8", "u8":
			o.ActivationType = ir.Uint8
		case "int8", "s8":
			o.ActivationType = ir.Int8
		default:
			return o, cal, fmt.Errorf("activation_type %q: want uint8 or int8", at)
		}
		if o.FloatBias, err = p.Bool("float_bias", false); err != nil {
			return o, cal, err
		}
	default:
		return o, cal, fmt.Errorf("%s is not a quantization step", st.Pass)
	}
	return o, cal, o.check()
}

// CalibrateStatic readies m for static quantization with opts and calibrates it: it runs
// PrepareForQuantization (once), plans, opens cal's data through ctx.Calibration and
// collects the range of every tensor the plan needs. QuantizeStatic(ctx, m, opts, ranges)
// then quantizes; FitQuantizationBudget searches a budget from the same ranges.
func CalibrateStatic(ctx *Context, m *ir.Model, opts QuantizeOptions, cal CalibrationSpec) (map[string]Range, error) {
	source := ctx.calibration()
	if source == nil {
		return nil, fmt.Errorf("quantize: no calibration source to open %q (set Context.Calibration; package whittle sets one)", cal.Data)
	}
	if _, err := PrepareForQuantization(ctx, m); err != nil {
		return nil, err
	}
	plan, err := PlanQuantization(m, opts)
	if err != nil {
		return nil, err
	}
	c, err := source.Calibrator(cal)
	if err != nil {
		return nil, fmt.Errorf("calibration data %s: %w", cal.Data, err)
	}
	return CollectRanges(m, plan.CalibrationTensors(), c, cal.options())
}

// Record stores pipeline p and ctx's whole change log in m's metadata, as Run does: for
// workflows that apply a step outside Run (the accuracy-budget search applies the
// quantize_static step it found) and must leave the same provenance.
func Record(ctx *Context, m *ir.Model, p Pipeline) error {
	pruneValueInfo(m)
	return recordMetadata(ctx, m, p, &ChangeLog{Changes: ctx.log().Changes})
}

func init() {
	common := []ParamInfo{
		{Name: "per_channel", Doc: "one weight scale per output channel", Default: "true"},
		{Name: "reduce_range", Doc: "7-bit weights (AVX2 without VNNI)", Default: "false"},
		{Name: "exclude", Doc: "nodes (by name) or op types left float, separated by ;", Default: ""},
		{Name: "op_types", Doc: "quantize only these op types, separated by ;", Default: ""},
	}
	quantPass := func(name string, run func(ctx *Context, m *ir.Model, o QuantizeOptions, cal CalibrationSpec) (*QuantizeReport, error)) func(Params) (Pass, error) {
		return func(p Params) (Pass, error) {
			o, cal, err := ParseQuantizeStep(Step{Pass: name, Params: p})
			if err != nil {
				return nil, err
			}
			return simplePass{name: name, run: func(ctx *Context, m *ir.Model) (bool, error) {
				before := ctx.log().Len()
				rep, err := run(ctx, m, o, cal)
				if err != nil {
					return false, err
				}
				ctx.report(name, rep)
				return ctx.log().Len() > before, nil
			}}, nil
		}
	}
	Register(Info{
		Name: "quantize_static",
		Doc: "static QDQ int8: calibrate activation ranges on the calibration data (a dataset spec, " +
			"opened through the Context's CalibrationSource), int8 weights, int32 biases, in the " +
			"layout ONNX Runtime fuses into QLinearConv/QLinearMatMul",
		Params: append([]ParamInfo{
			{Name: "calibration", Doc: "calibration data: a dataset spec such as fashion-mnist:train:512", Default: "(required)"},
			{Name: "preprocess", Doc: "how images:DIR calibration data becomes model inputs (a preprocessing spec such as imagenet)", Default: ""},
			{Name: "method", Doc: "range method: minmax, ema, percentile or entropy", Default: "minmax"},
			{Name: "percentile", Doc: "share of |x| kept by method percentile, in percent", Default: "99.999"},
			{Name: "batch_size", Doc: "rows per calibration run (0: the source's default)", Default: "0"},
			{Name: "activation_type", Doc: "uint8 (asymmetric) or int8 (symmetric, zero point 0)", Default: "uint8"},
			{Name: "float_bias", Doc: "leave biases float (TensorRT's layout)", Default: "false"},
		}, common...),
		Lossy:      true,
		FixedPoint: true,
		New: quantPass("quantize_static", func(ctx *Context, m *ir.Model, o QuantizeOptions, cal CalibrationSpec) (*QuantizeReport, error) {
			ranges, err := CalibrateStatic(ctx, m, o, cal)
			if err != nil {
				return nil, err
			}
			return QuantizeStatic(ctx, m, o, ranges)
		}),
	})
	Register(Info{
		Name: "quantize_weights",
		Doc: "store Conv/ConvTranspose/Gemm/MatMul weights as int8 (per channel) behind a DequantizeLinear, " +
			"or as blocked int4 (bits=4, MatMul/Gemm, opset 21); activations stay float",
		Params: append([]ParamInfo{
			{Name: "bits", Doc: "8, or 4 for blocked int4", Default: "8"},
			{Name: "block_size", Doc: "int4 block along the reduction axis", Default: "32"},
			{Name: "upgrade_opset", Doc: "raise the opset import to 21 for int4 when safe", Default: "false"},
		}, common...),
		Lossy:      true,
		FixedPoint: true,
		New: quantPass("quantize_weights", func(ctx *Context, m *ir.Model, o QuantizeOptions, _ CalibrationSpec) (*QuantizeReport, error) {
			return QuantizeWeights(ctx, m, o)
		}),
	})
	Register(Info{
		Name: "quantize_dynamic",
		Doc: "quantize MatMul/Gemm with constant weights dynamically: DynamicQuantizeLinear, MatMulInteger " +
			"and a Mul by the scales (ORT fuses them into DynamicQuantizeMatMul)",
		Params:     common,
		Lossy:      true,
		FixedPoint: true,
		New: quantPass("quantize_dynamic", func(ctx *Context, m *ir.Model, o QuantizeOptions, _ CalibrationSpec) (*QuantizeReport, error) {
			return QuantizeDynamic(ctx, m, o)
		}),
	})
}
