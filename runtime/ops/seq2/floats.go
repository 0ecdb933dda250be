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

// input returns inputs[i] when it is present and a tensor, nil otherwise.
func input(inputs []*kernel.Tensor, i int) *kernel.Tensor {
	if i < len(inputs) && inputs[i] != nil && inputs[i].Kind == kernel.TensorValue {
		return inputs[i]
	}
	return nil
}

// wantOutput reports whether the node's output i is requested.
func wantOutput(n *ir.Node, i int) bool { return n.Output(i) != nil && n.Output(i).Name != "" }

// readFloats returns a float tensor's elements as float64.
func readFloats(t *kernel.Tensor) ([]float64, error) {
	switch d := t.Data.(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out, nil
	case []float64:
		return d, nil
	case []uint16:
		out := make([]float64, len(d))
		switch t.DType {
		case ir.Float16:
			for i, v := range d {
				out[i] = float64(kernel.Float16ToFloat32(v))
			}
		case ir.BFloat16:
			for i, v := range d {
				out[i] = float64(kernel.BFloat16ToFloat32(v))
			}
		default:
			return nil, fmt.Errorf("element type %s is not a float type", t.DType)
		}
		return out, nil
	}
	return nil, fmt.Errorf("element type %s is not a float type", t.DType)
}

// writeFloats allocates a tensor of type dt and shape and fills it from data, rounding to
// the element type.
func writeFloats(ctx *kernel.Context, dt ir.DataType, data []float64, shape ...int64) (*kernel.Tensor, error) {
	t := ctx.Alloc(dt, shape...)
	switch d := t.Data.(type) {
	case []float32:
		for i, v := range data {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, data)
	case []uint16:
		switch dt {
		case ir.Float16:
			for i, v := range data {
				d[i] = kernel.Float32ToFloat16(float32(v))
			}
		case ir.BFloat16:
			for i, v := range data {
				d[i] = kernel.Float32ToBFloat16(float32(v))
			}
		default:
			return nil, fmt.Errorf("element type %s is not a float type", dt)
		}
	default:
		return nil, fmt.Errorf("element type %s is not a float type", dt)
	}
	return t, nil
}

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
