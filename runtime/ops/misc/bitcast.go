package misc

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "BitCast", SinceVersion: 26, New: newBitCast})
}

// newBitCast reinterprets the input's bits as the type named by "to". It goes through the
// little-endian byte encoding that ONNX tensors use (kernel.ToIR / FromIR), which also
// packs and unpacks the sub-byte types, so every pair of equal-width types works the same
// way. A byte becoming a bool keeps only "nonzero": []bool cannot hold other bit patterns.
func newBitCast(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	a := n.Attr("to")
	if a == nil {
		return nil, fmt.Errorf("%s: attribute to is required", n.Describe())
	}
	to := ir.DataType(a.Int)
	if !to.Valid() || to == ir.String || to == ir.Undefined || to.BitSize() == 0 {
		return nil, fmt.Errorf("%s: cannot bitcast to %s", n.Describe(), to)
	}
	return kfunc(n, func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x := kernel.Input(in, 0)
		if x == nil {
			return nil, fmt.Errorf("input is required")
		}
		if x.DType == ir.String {
			return nil, fmt.Errorf("cannot bitcast a string tensor")
		}
		if x.DType.BitSize() != to.BitSize() {
			return nil, fmt.Errorf("cannot bitcast %s (%d bits) to %s (%d bits)", x.DType, x.DType.BitSize(), to, to.BitSize())
		}
		raw, err := kernel.ToIR("input", x)
		if err != nil {
			return nil, err
		}
		raw.DataType = to
		out, err := kernel.FromIR(raw)
		if err != nil {
			return nil, err
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}
