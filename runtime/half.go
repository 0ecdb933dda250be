package runtime

import (
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// halfFallback runs a float32 kernel for float16/bfloat16 data: it widens every half input
// to float32, runs the kernel, and narrows float32 outputs back to the half type (unless
// the node declares a float output, as Cast or a quantizer's scale might). Rounding the
// result once, from float32, is what ONNX Runtime's CPU fallbacks do as well.
type halfFallback struct {
	inner    kernel.Kernel
	outTypes []*ir.Type
	// types are the first-input element types the kernel handles itself: a kernel chosen
	// before the input types were known (see lookupKernel) may well handle the half type
	// it meets at run time, and then it runs untouched.
	types []ir.DataType
}

// newHalfFallback builds def's kernel behind the conversion. widen says the node's inputs
// are known to be half: the float kernel's factory then sees float32 types and constants.
// Otherwise (types unknown at build) the factory sees the node as it is.
func newHalfFallback(def kernel.KernelDef, info *kernel.NodeInfo, widen bool) (kernel.Kernel, error) {
	if !widen {
		k, err := kernel.NewGuarded(def, info)
		if err != nil {
			return nil, err
		}
		return &halfFallback{inner: k, outTypes: info.OutputTypes, types: def.Types}, nil
	}
	wide := *info
	wide.InputTypes = make([]*ir.Type, len(info.InputTypes))
	for i, t := range info.InputTypes {
		wide.InputTypes[i] = widenType(t)
	}
	wide.OutputTypes = make([]*ir.Type, len(info.OutputTypes))
	for i, t := range info.OutputTypes {
		wide.OutputTypes[i] = widenType(t)
	}
	wide.Consts = make([]*kernel.Tensor, len(info.Consts))
	for i, c := range info.Consts {
		wide.Consts[i] = c
		if c != nil && isHalf(c.DType) && c.Kind == kernel.TensorValue {
			wide.Consts[i] = halfToFloat(nil, c)
		}
	}
	k, err := kernel.NewGuarded(def, &wide)
	if err != nil {
		return nil, err
	}
	// The types list stays empty: the inputs are half and the kernel does not take them.
	return &halfFallback{inner: k, outTypes: info.OutputTypes}, nil
}

func isHalf(dt ir.DataType) bool { return dt == ir.Float16 || dt == ir.BFloat16 }

func widenType(t *ir.Type) *ir.Type {
	if t == nil || !isHalf(t.Elem) || t.Kind != ir.TensorKind {
		return t
	}
	w := t.Clone()
	w.Elem = ir.Float
	return w
}

func (h *halfFallback) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	for _, in := range inputs {
		if in != nil {
			if in.Kind == kernel.TensorValue && hasType(h.types, in.DType) {
				return h.inner.Run(ctx, inputs)
			}
			break
		}
	}
	half := ir.Undefined
	for _, in := range inputs {
		if in != nil && in.Kind == kernel.TensorValue && isHalf(in.DType) {
			half = in.DType
			break
		}
	}
	if half == ir.Undefined {
		return h.inner.Run(ctx, inputs)
	}
	wide := make([]*kernel.Tensor, len(inputs))
	for i, in := range inputs {
		wide[i] = in
		if in != nil && in.Kind == kernel.TensorValue && isHalf(in.DType) {
			wide[i] = halfToFloat(ctx, in)
		}
	}
	outs, err := h.inner.Run(ctx, wide)
	if err != nil {
		return nil, err
	}
	for i, o := range outs {
		if o == nil || o.Kind != kernel.TensorValue || o.DType != ir.Float {
			continue
		}
		if i < len(h.outTypes) && h.outTypes[i] != nil && h.outTypes[i].Elem == ir.Float {
			continue
		}
		outs[i] = floatToHalf(ctx, o, half)
	}
	return outs, nil
}

func halfToFloat(ctx *kernel.Context, t *kernel.Tensor) *kernel.Tensor {
	out := ctx.Alloc(ir.Float, t.Shape...)
	dst, src := out.Data.([]float32), t.Data.([]uint16)
	if t.DType == ir.BFloat16 {
		for i, v := range src {
			dst[i] = kernel.BFloat16ToFloat32(v)
		}
	} else {
		for i, v := range src {
			dst[i] = kernel.Float16ToFloat32(v)
		}
	}
	return out
}

func floatToHalf(ctx *kernel.Context, t *kernel.Tensor, dt ir.DataType) *kernel.Tensor {
	out := ctx.Alloc(dt, t.Shape...)
	dst, src := out.Data.([]uint16), t.Data.([]float32)
	if dt == ir.BFloat16 {
		for i, v := range src {
			dst[i] = kernel.Float32ToBFloat16(v)
		}
	} else {
		for i, v := range src {
			dst[i] = kernel.Float32ToFloat16(v)
		}
	}
	return out
}
