package misc

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "MaxUnpool", SinceVersion: 9, Types: floatTypes, New: newMaxUnpool})
}

// newMaxUnpool scatters X into a zero tensor at the flat indices I (as MaxPool's Indices
// output gives them, over the whole N×C×spatial tensor of the unpadded pooled input). The
// scatter happens in the shape inferred from kernel_shape, strides and pads; an explicit
// output_shape then places that result in the top-left corner of a larger zero tensor, as
// the ONNX reference does.
func newMaxUnpool(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	kshape := n.AttrInts("kernel_shape", nil)
	if len(kshape) == 0 {
		return nil, fmt.Errorf("%s: attribute kernel_shape is required", n.Describe())
	}
	rank := len(kshape)
	strides, err := spatialAttr(n, "strides", rank, 1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Describe(), err)
	}
	pads, err := padsAttr(n, rank)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Describe(), err)
	}
	return kfunc(n, func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, idxT := kernel.Input(in, 0), kernel.Input(in, 1)
		if x == nil || idxT == nil {
			return nil, fmt.Errorf("inputs X and I are required")
		}
		if len(x.Shape) != rank+2 {
			return nil, fmt.Errorf("X shape %v does not have %d spatial axes", x.Shape, rank)
		}
		if !kernel.SameShape(x.Shape, idxT.Shape) {
			return nil, fmt.Errorf("I shape %v differs from X shape %v", idxT.Shape, x.Shape)
		}
		inferred := append([]int64{}, x.Shape...)
		for i := 0; i < rank; i++ {
			inferred[2+i] = (x.Shape[2+i]-1)*strides[i] - (pads[i] + pads[rank+i]) + kshape[i]
			if inferred[2+i] < 0 {
				return nil, fmt.Errorf("inferred output shape %v has a negative dimension", inferred)
			}
		}
		outShape := inferred
		if t := kernel.Input(in, 2); t != nil {
			v, err := kernel.Int64sOf(t)
			if err != nil {
				return nil, fmt.Errorf("output_shape: %w", err)
			}
			if len(v) != len(inferred) {
				return nil, fmt.Errorf("output_shape %v does not have rank %d", v, len(inferred))
			}
			for i := range v {
				if v[i] < inferred[i] {
					return nil, fmt.Errorf("output_shape %v is smaller than the unpooled shape %v", v, inferred)
				}
			}
			outShape = v
		}
		// output_shape is data: a product that overflows must not wrap under the cap.
		count, err := ir.NumElements(outShape)
		if err != nil || count > maxElements {
			return nil, fmt.Errorf("output shape %v is too large", outShape)
		}
		xs, err := kernel.FloatsOf(x)
		if err != nil {
			return nil, fmt.Errorf("X: %w", err)
		}
		idx, err := kernel.Int64sOf(idxT)
		if err != nil {
			return nil, fmt.Errorf("I: %w", err)
		}
		total := kernel.ShapeSize(inferred)
		res, err := kernel.MakeScratch[float64](int(count))
		if err != nil {
			return nil, err
		}
		pos := make([]int64, len(inferred))
		for i, at := range idx {
			if at < 0 || at >= int64(total) {
				return nil, fmt.Errorf("index %d at position %d is outside [0, %d)", at, i, total)
			}
			// Re-ravel the index from the inferred shape into the output shape.
			unravel(int(at), inferred, pos)
			off := 0
			for a, p := range pos {
				off = off*int(outShape[a]) + int(p)
			}
			res[off] = xs[i]
		}
		return kernel.Single(kernel.FromFloat64s(ctx, x.DType, outShape, res))
	}), nil
}
