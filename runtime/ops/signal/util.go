package signal

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// floatTypes are the element types of the signal inputs that the kernels accept.
var floatTypes = []ir.DataType{ir.Float, ir.Double, ir.Float16, ir.BFloat16}

// input returns in[i], or nil when it is absent or an empty optional.
func input(in []*kernel.Tensor, i int) *kernel.Tensor {
	if i < len(in) && in[i] != nil && in[i].Kind == kernel.TensorValue {
		return in[i]
	}
	return nil
}

// floats widens a float tensor's elements to float64 (Data itself for a double tensor: do
// not modify it).
func floats(t *kernel.Tensor) ([]float64, error) {
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
			return out, nil
		case ir.BFloat16:
			for i, v := range d {
				out[i] = float64(kernel.BFloat16ToFloat32(v))
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("element type %s is not a float type", t.DType)
}

// scalarInt reads a one-element int32 or int64 tensor (a scalar, or shape [1]).
func scalarInt(t *kernel.Tensor, name string) (int64, error) {
	if t.NumElements() != 1 {
		return 0, fmt.Errorf("%s must be a scalar, got shape %v", name, t.Shape)
	}
	switch d := t.Data.(type) {
	case []int64:
		return d[0], nil
	case []int32:
		return int64(d[0]), nil
	}
	return 0, fmt.Errorf("%s must be int32 or int64, got %s", name, t.DType)
}

// scalarFloat reads a one-element float tensor of any float type.
func scalarFloat(t *kernel.Tensor, name string) (float64, error) {
	if t.NumElements() != 1 {
		return 0, fmt.Errorf("%s must be a scalar, got shape %v", name, t.Shape)
	}
	v, err := floats(t)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return v[0], nil
}

// numericOutput reports whether dt is a type the generator ops (windows, MelWeightMatrix)
// may produce.
func numericOutput(dt ir.DataType) bool {
	switch dt {
	case ir.Float, ir.Double, ir.Float16, ir.BFloat16, ir.Int8, ir.Int16, ir.Int32, ir.Int64,
		ir.Uint8, ir.Uint16, ir.Uint32, ir.Uint64:
		return true
	}
	return false
}

// store allocates a tensor of type dt and writes v into it: rounded for the float types,
// truncated toward zero for the integer types (as numpy's astype does).
func store(ctx *kernel.Context, dt ir.DataType, shape []int64, v []float64) *kernel.Tensor {
	out := ctx.Alloc(dt, shape...)
	switch d := out.Data.(type) {
	case []float32:
		for i, x := range v {
			d[i] = float32(x)
		}
	case []float64:
		copy(d, v)
	case []uint16:
		for i, x := range v {
			switch dt {
			case ir.Float16:
				d[i] = kernel.Float32ToFloat16(float32(x))
			case ir.BFloat16:
				d[i] = kernel.Float32ToBFloat16(float32(x))
			default:
				d[i] = uint16(trunc(x))
			}
		}
	case []int8:
		for i, x := range v {
			d[i] = int8(trunc(x))
		}
	case []int16:
		for i, x := range v {
			d[i] = int16(trunc(x))
		}
	case []int32:
		for i, x := range v {
			d[i] = int32(trunc(x))
		}
	case []int64:
		for i, x := range v {
			d[i] = trunc(x)
		}
	case []uint8:
		for i, x := range v {
			d[i] = uint8(trunc(x))
		}
	case []uint32:
		for i, x := range v {
			d[i] = uint32(trunc(x))
		}
	case []uint64:
		for i, x := range v {
			d[i] = uint64(trunc(x))
		}
	}
	return out
}

// trunc converts toward zero; NaN becomes 0 rather than an implementation-defined value.
func trunc(x float64) int64 {
	if math.IsNaN(x) {
		return 0
	}
	return int64(x)
}

// prod multiplies dims.
func prod(dims []int64) int {
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	return n
}
