package loss

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// floatTypes are the element types of the scores input that the kernels accept.
var floatTypes = []ir.DataType{ir.Float, ir.Double, ir.Float16, ir.BFloat16}

// input returns in[i], or nil when it is absent or an empty optional.
func input(in []*kernel.Tensor, i int) *kernel.Tensor {
	if i < len(in) && in[i] != nil && in[i].Kind == kernel.TensorValue {
		return in[i]
	}
	return nil
}

// floats widens a float tensor's elements to float64 (a copy).
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

// ints widens an int32 or int64 tensor's elements to int64.
func ints(t *kernel.Tensor) ([]int64, error) {
	switch d := t.Data.(type) {
	case []int64:
		return d, nil
	case []int32:
		out := make([]int64, len(d))
		for i, v := range d {
			out[i] = int64(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("element type %s is not int32 or int64", t.DType)
}

// store allocates a tensor of type dt and writes v (rounded to dt) into it.
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
		if dt == ir.BFloat16 {
			for i, x := range v {
				d[i] = kernel.Float32ToBFloat16(float32(x))
			}
		} else {
			for i, x := range v {
				d[i] = kernel.Float32ToFloat16(float32(x))
			}
		}
	}
	return out
}
