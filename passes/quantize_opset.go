package passes

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// QuantizationOpset returns the default-domain opset that quantizing with o needs at
// least: 13 for per-channel weights (QuantizeLinear/DequantizeLinear gained axis in 13),
// 11 for dynamic quantization (DynamicQuantizeLinear), 10 otherwise. Blocked int4
// weights need 21, which QuantizeWeights raises itself under AllowOpsetUpgrade.
func QuantizationOpset(o QuantizeOptions) int64 {
	switch {
	case o.Dynamic:
		return 11
	case o.PerChannel:
		return 13
	}
	return 10
}

// UpgradeForQuantization raises m's default-domain opset to QuantizationOpset(o) with the
// convert_opset pass when it is lower, so that models from exporters that default to old
// opsets (Paddle2ONNX writes 9) quantize instead of being refused or falling back to
// per-tensor weights. It returns the opset before and after (equal when nothing changed);
// a model convert_opset cannot convert is left unchanged and its error returned.
func UpgradeForQuantization(ctx *Context, m *ir.Model, o QuantizeOptions) (from, to int64, err error) {
	from = opsetOf(m)
	need := QuantizationOpset(o)
	if o.WeightOnly && o.WeightBits == 4 || from >= need {
		return from, from, nil
	}
	if ctx == nil {
		ctx = &Context{}
	}
	p := Pipeline{{Pass: "convert_opset", Params: Params{"opset": fmt.Sprint(need)}}}
	if _, err := Run(ctx, m, p); err != nil {
		return from, from, fmt.Errorf("quantize: the model imports opset %d and quantization needs %d: %w", from, need, err)
	}
	return from, need, nil
}
