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
	return fmt.Errorf("%s: %s", n.Describe(), fmt.Sprintf(format, args...))
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
