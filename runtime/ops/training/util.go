package training

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// trainingDomain is the domain of the training operators.
const trainingDomain = "ai.onnx.preview.training"

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

// writeFloats allocates a tensor of float type dt and shape holding data.
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

// scalarFloat reads a one-element float tensor.
func scalarFloat(t *kernel.Tensor) (float64, error) {
	if t == nil || t.NumElements() != 1 {
		return 0, fmt.Errorf("want a one-element tensor, got %v", t)
	}
	d, err := readFloats(t)
	if err != nil {
		return 0, err
	}
	return d[0], nil
}

// scalarInt reads a one-element int64 tensor.
func scalarInt(t *kernel.Tensor) (int64, error) {
	if t == nil || t.NumElements() != 1 || t.DType != ir.Int64 {
		return 0, fmt.Errorf("want a one-element int64 tensor, got %v", t)
	}
	return t.Int64s()[0], nil
}
