package tensor

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// maxElements bounds the size of tensors whose shape comes from data (Range, Tile, Expand,
// ConstantOfShape, ...), so a bad model fails with an error instead of exhausting memory.
const maxElements = 1 << 34

// describe names the node in error messages.
func describe(info *kernel.NodeInfo) string {
	if info == nil || info.Node == nil {
		return "node"
	}
	return info.Node.Describe()
}

// kfunc wraps a run function with the node's name on its errors.
func kfunc(desc string, f func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error)) kernel.Kernel {
	return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		out, err := f(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", desc, err)
		}
		return out, nil
	})
}

// input returns in[i] or nil when it is absent or an empty optional.
func input(in []*kernel.Tensor, i int) *kernel.Tensor {
	if i < len(in) && in[i] != nil && in[i].Kind == kernel.TensorValue {
		return in[i]
	}
	return nil
}

// need returns in[i] or an error naming the missing input.
func need(in []*kernel.Tensor, i int, name string) (*kernel.Tensor, error) {
	if t := input(in, i); t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("input %d (%s) is missing", i, name)
}

// toInts widens an integer tensor's elements to int64.
func toInts(t *kernel.Tensor) ([]int64, error) {
	switch d := t.Data.(type) {
	case []int64:
		return d, nil
	case []int32:
		return widen(d), nil
	case []int16:
		return widen(d), nil
	case []int8:
		return widen(d), nil
	case []uint8:
		if t.DType == ir.Uint8 {
			return widen(d), nil
		}
	case []uint16:
		if t.DType == ir.Uint16 {
			return widen(d), nil
		}
	case []uint32:
		return widen(d), nil
	case []uint64:
		return widen(d), nil
	}
	return nil, fmt.Errorf("expected an integer tensor, got %s", t)
}

func widen[T int8 | int16 | int32 | uint8 | uint16 | uint32 | uint64](d []T) []int64 {
	out := make([]int64, len(d))
	for i, v := range d {
		out[i] = int64(v)
	}
	return out
}

// numel multiplies a shape.
func numel(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}

// checkedNumel multiplies a shape computed from data, rejecting negative dims and sizes
// beyond maxElements.
func checkedNumel(shape []int64) (int, error) {
	n, err := ir.NumElements(shape)
	if err != nil {
		return 0, err
	}
	if n > maxElements {
		return 0, fmt.Errorf("shape %v has %d elements, more than the limit %d", shape, n, int64(maxElements))
	}
	return int(n), nil
}

// stridesOf returns row-major strides (in elements).
func stridesOf(shape []int64) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= int(shape[i])
	}
	return s
}

func ints(shape []int64) []int {
	out := make([]int, len(shape))
	for i, d := range shape {
		out[i] = int(d)
	}
	return out
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d is out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// normAxes normalizes a list of axes and rejects duplicates.
func normAxes(axes []int64, rank int) ([]int, error) {
	out := make([]int, len(axes))
	seen := make([]bool, rank)
	for i, a := range axes {
		n, err := normAxis(a, rank)
		if err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, fmt.Errorf("axis %d is repeated in %v", a, axes)
		}
		seen[n] = true
		out[i] = n
	}
	return out, nil
}

// view returns a tensor sharing t's data with another shape.
func reshaped(t *kernel.Tensor, shape []int64) *kernel.Tensor {
	return &kernel.Tensor{DType: t.DType, Shape: shape, Data: t.Data}
}

// alloc allocates an output through the context (pooled when the session pools).
func alloc(ctx *kernel.Context, dt ir.DataType, shape []int64) *kernel.Tensor {
	return ctx.Alloc(dt, shape...)
}

// isHalf reports whether dt is stored as bits that arithmetic must decode.
func isHalf(dt ir.DataType) bool {
	return dt == ir.Float16 || dt == ir.BFloat16 || kernel.IsFloat8(dt) || dt == ir.Float8E8M0
}

// toFloat64s converts any numeric or bool tensor to float64 values (decoding float16,
// bfloat16 and float8 bits, sign-extending int4).
func toFloat64s(t *kernel.Tensor) ([]float64, error) {
	out := make([]float64, t.Len())
	switch d := t.Data.(type) {
	case []float32:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []float64:
		copy(out, d)
	case []uint16:
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
			for i, v := range d {
				out[i] = float64(v)
			}
		}
	case []uint8:
		switch {
		case kernel.IsFloat8(t.DType):
			for i, v := range d {
				out[i] = float64(kernel.Float8ToFloat32(t.DType, v))
			}
		case t.DType == ir.Float8E8M0:
			for i, v := range d {
				out[i] = float64(kernel.Float8E8M0ToFloat32(v))
			}
		case t.DType == ir.Int4:
			for i, v := range d {
				out[i] = float64(kernel.Int4ToInt8(v))
			}
		case t.DType == ir.Int2:
			for i, v := range d {
				out[i] = float64(kernel.Int2ToInt8(v))
			}
		default:
			for i, v := range d {
				out[i] = float64(v)
			}
		}
	case []int8:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []int16:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []int32:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []int64:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []uint32:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []uint64:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []bool:
		for i, v := range d {
			if v {
				out[i] = 1
			}
		}
	default:
		return nil, fmt.Errorf("element type %s is not numeric", t.DType)
	}
	return out, nil
}

// storeFloat64s writes vals into dst (of element type dt), converting as Cast would
// (rounding to nearest even for the narrow floats, truncating toward zero for integers).
func storeFloat64s(dst any, dt ir.DataType, vals []float64) error {
	switch d := dst.(type) {
	case []float32:
		for i, v := range vals {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, vals)
	case []uint16:
		switch dt {
		case ir.Float16:
			for i, v := range vals {
				d[i] = kernel.Float32ToFloat16(narrowOdd(v))
			}
		case ir.BFloat16:
			for i, v := range vals {
				d[i] = kernel.Float32ToBFloat16(narrowOdd(v))
			}
		default:
			for i, v := range vals {
				d[i] = uint16(toInt64(v))
			}
		}
	case []uint8:
		switch {
		case kernel.IsFloat8(dt):
			for i, v := range vals {
				d[i] = kernel.Float32ToFloat8(dt, narrowOdd(v), true)
			}
		case dt == ir.Float8E8M0:
			for i, v := range vals {
				d[i] = kernel.Float32ToFloat8E8M0(narrowOdd(v), true, kernel.E8M0Up)
			}
		case dt == ir.Int4 || dt == ir.Uint4:
			for i, v := range vals {
				d[i] = kernel.WrapInt4(toInt64(v))
			}
		case dt == ir.Int2 || dt == ir.Uint2:
			for i, v := range vals {
				d[i] = kernel.WrapInt2(toInt64(v))
			}
		default:
			for i, v := range vals {
				d[i] = uint8(toInt64(v))
			}
		}
	case []int8:
		for i, v := range vals {
			d[i] = int8(toInt64(v))
		}
	case []int16:
		for i, v := range vals {
			d[i] = int16(toInt64(v))
		}
	case []int32:
		for i, v := range vals {
			d[i] = int32(toInt64(v))
		}
	case []int64:
		for i, v := range vals {
			d[i] = toInt64(v)
		}
	case []uint32:
		for i, v := range vals {
			d[i] = uint32(toInt64(v))
		}
	case []uint64:
		for i, v := range vals {
			if v >= 1<<63 {
				d[i] = uint64(v)
			} else {
				d[i] = uint64(toInt64(v))
			}
		}
	case []bool:
		for i, v := range vals {
			d[i] = v != 0
		}
	default:
		return fmt.Errorf("element type %s is not numeric", dt)
	}
	return nil
}

// toInt64 truncates toward zero; NaN and out-of-range values (undefined in ONNX) give the
// nearest int64 bound or zero, never a panic.
func toInt64(v float64) int64 {
	switch {
	case math.IsNaN(v):
		return 0
	case v >= 9.223372036854775807e18:
		return math.MaxInt64
	case v <= -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(v)
}

// narrowOdd converts a float64 to float32 rounding to odd: truncate, then set the last bit
// when inexact. Rounding the result again to a format with at most 22 mantissa bits then
// gives the same answer as rounding the float64 directly (no double-rounding error).
func narrowOdd(v float64) float32 {
	f := float32(v)
	if float64(f) == v || math.IsNaN(v) || math.IsInf(v, 0) {
		return f
	}
	b := math.Float32bits(f)
	if math.Abs(float64(f)) > math.Abs(v) {
		b-- // rounded away from zero: step back toward zero
	}
	return math.Float32frombits(b | 1)
}
