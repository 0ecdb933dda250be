package seq2

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// floatTypes are the element types the kernels of this package accept.
var floatTypes = []ir.DataType{ir.Float, ir.Double, ir.Float16, ir.BFloat16}

// opErr prefixes an error with the node's description.
func opErr(n *ir.Node, format string, args ...any) error {
	// The format is appended, not rendered into %s, so that a %w in it keeps the error
	// it wraps (a *kernel.BudgetError stays errors.Is ErrMemoryBudget).
	return fmt.Errorf("%s: "+format, append([]any{n.Describe()}, args...)...)
}

// scratch returns a zeroed float64 buffer of the product of dims after checking that the
// product does not overflow and that the buffer fits the memory budget: the dims come from
// input shapes, which an empty input may set to anything.
func scratch(dims ...int) ([]float64, error) {
	shape := make([]int64, len(dims))
	for i, d := range dims {
		shape[i] = int64(d)
	}
	return kernel.MakeScratchShaped[float64](shape)
}

// wantOutput reports whether the node's output i is requested.
func wantOutput(n *ir.Node, i int) bool { return n.Output(i) != nil && n.Output(i).Name != "" }

// roundTo rounds data in place to the precision of dt (what storing it as dt would keep).
func roundTo(dt ir.DataType, data []float64) {
	switch dt {
	case ir.Float:
		for i, v := range data {
			data[i] = float64(float32(v))
		}
	case ir.Float16:
		for i, v := range data {
			data[i] = float64(kernel.Float16ToFloat32(kernel.Float32ToFloat16(float32(v))))
		}
	case ir.BFloat16:
		for i, v := range data {
			data[i] = float64(kernel.BFloat16ToFloat32(kernel.Float32ToBFloat16(float32(v))))
		}
	}
}
