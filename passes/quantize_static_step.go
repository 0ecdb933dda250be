package passes

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// quantize_static is static QDQ quantization as a pipeline step, so that a recipe can end
// in an int8 model (prune → distill → quantize_static): the model is prepared
// (PrepareForQuantization), calibrated on the data the calibration parameter names
// (through Context.Calibrators, since package passes does not run models) and quantized
// with QuantizeStatic. whittle quantize offers the same with more options (accuracy
// budget, SQNR floor).

func init() {
	Register(Info{
		Name: "quantize_static",
		Doc: "static int8 QDQ quantization with calibration on the data spec `calibration` " +
			"(whittle quantize as a recipe step; needs Context.Calibrators, which the CLI sets)",
		Params: []ParamInfo{
			{Name: "calibration", Doc: "calibration data spec (e.g. fashion-mnist:train:512)", Default: ""},
			{Name: "method", Doc: "minmax, ema, percentile or entropy", Default: "minmax"},
			{Name: "per_channel", Doc: "one weight scale per output channel", Default: "true"},
			{Name: "reduce_range", Doc: "7-bit weights", Default: "false"},
		},
		New: func(p Params) (Pass, error) {
			spec := p.String("calibration", "")
			if spec == "" {
				return nil, fmt.Errorf("calibration=SPEC is required")
			}
			method, err := ParseCalibrationMethod(p.String("method", string(MinMax)))
			if err != nil {
				return nil, err
			}
			o := DefaultQuantizeOptions()
			if o.PerChannel, err = p.Bool("per_channel", true); err != nil {
				return nil, err
			}
			if o.ReduceRange, err = p.Bool("reduce_range", false); err != nil {
				return nil, err
			}
			done := false
			return simplePass{name: "quantize_static", run: func(ctx *Context, m *ir.Model) (bool, error) {
				if done {
					return false, nil
				}
				done = true
				if ctx.Calibrators == nil {
					return false, fmt.Errorf("no calibration data source: quantize_static needs whittle's CLI or Context.Calibrators")
				}
				before := ctx.log().Len()
				cal, err := ctx.Calibrators(spec)
				if err != nil {
					return false, fmt.Errorf("calibration %s: %w", spec, err)
				}
				if _, err := PrepareForQuantization(ctx, m); err != nil {
					return false, err
				}
				plan, err := PlanQuantization(m, o)
				if err != nil {
					return false, err
				}
				ranges, err := CollectRanges(m, plan.CalibrationTensors(), cal, CalibrationOptions{Method: method})
				if err != nil {
					return false, err
				}
				if _, err := QuantizeStatic(ctx, m, o, ranges); err != nil {
					return false, err
				}
				return ctx.log().Len() > before, nil
			}}, nil
		},
		FixedPoint: true,
		Lossy:      true,
	})
}
