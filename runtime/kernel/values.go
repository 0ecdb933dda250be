package kernel

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
)

// This file holds the conversions that kernels computing in float64 or reading int64
// parameters share: tensor elements to []float64 / []int64 and back, axis normalization,
// and optional-input lookup. Kernels with float32 fast paths keep them and call these only
// on their generic paths.

// Input returns inputs[i], or nil when it is absent (past the end, omitted) or an empty
// optional.
func Input(inputs []*Tensor, i int) *Tensor {
	if i >= 0 && i < len(inputs) && inputs[i] != nil && inputs[i].Kind == TensorValue {
		return inputs[i]
	}
	return nil
}

// ShapeSize multiplies the dims of shape (1 for a scalar). It does not check for negative
// dims or overflow: use ir.NumElements on shapes that come from data.
func ShapeSize(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}

// isComputeFloat reports whether dt is one of the float types that kernels compute on:
// float, double, float16 and bfloat16 (not float8, which only Cast and the quantization
// ops handle).
func isComputeFloat(dt ir.DataType) bool {
	return dt == ir.Float || dt == ir.Double || dt == ir.Float16 || dt == ir.BFloat16
}

// FloatsOf returns the elements of a float, double, float16 or bfloat16 tensor as a new
// []float64, and an error for any other element type. Use Float64sOf where integer inputs
// are allowed too.
func FloatsOf(t *Tensor) ([]float64, error) {
	if !isComputeFloat(t.DType) {
		return nil, fmt.Errorf("element type %s is not a float type", t.DType)
	}
	return Float64sOf(t)
}

// Float64sOf returns the elements of a numeric or bool tensor as a new []float64 (the
// caller owns it): float16, bfloat16 and float8 are decoded from their bits, int4 and int2
// sign-extended, bool is 0 or 1. Strings and complex numbers are an error.
func Float64sOf(t *Tensor) ([]float64, error) {
	// A widened copy of a float tensor is twice its size: weigh it like any scratch.
	out, err := MakeScratch[float64](t.Len())
	if err != nil {
		return nil, err
	}
	switch d := t.Data.(type) {
	case []float32:
		widenInto(out, d)
	case []float64:
		copy(out, d)
	case []uint16:
		switch t.DType {
		case ir.Float16:
			for i, v := range d {
				out[i] = float64(Float16ToFloat32(v))
			}
		case ir.BFloat16:
			for i, v := range d {
				out[i] = float64(BFloat16ToFloat32(v))
			}
		default:
			widenInto(out, d)
		}
	case []uint8:
		switch {
		case IsFloat8(t.DType):
			for i, v := range d {
				out[i] = float64(Float8ToFloat32(t.DType, v))
			}
		case t.DType == ir.Float8E8M0:
			for i, v := range d {
				out[i] = float64(Float8E8M0ToFloat32(v))
			}
		case t.DType == ir.Int4:
			for i, v := range d {
				out[i] = float64(Int4ToInt8(v))
			}
		case t.DType == ir.Int2:
			for i, v := range d {
				out[i] = float64(Int2ToInt8(v))
			}
		default:
			widenInto(out, d)
		}
	case []int8:
		widenInto(out, d)
	case []int16:
		widenInto(out, d)
	case []int32:
		widenInto(out, d)
	case []int64:
		widenInto(out, d)
	case []uint32:
		widenInto(out, d)
	case []uint64:
		widenInto(out, d)
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

func widenInto[T float32 | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](dst []float64, src []T) {
	for i, v := range src {
		dst[i] = float64(v)
	}
}

// Int64sOf returns the elements of an integer tensor (int8 to int64, uint8 to uint64) as a
// new []int64 (the caller owns it): the axes, shapes, pads and indices that operators take
// as inputs. uint64 values above MaxInt64 wrap. Other element types are an error.
func Int64sOf(t *Tensor) ([]int64, error) {
	switch d := t.Data.(type) {
	case []int64:
		return toInt64s(d)
	case []int32:
		return toInt64s(d)
	case []int16:
		return toInt64s(d)
	case []int8:
		return toInt64s(d)
	case []uint8:
		if t.DType == ir.Uint8 {
			return toInt64s(d)
		}
	case []uint16:
		if t.DType == ir.Uint16 {
			return toInt64s(d)
		}
	case []uint32:
		return toInt64s(d)
	case []uint64:
		return toInt64s(d)
	}
	return nil, fmt.Errorf("element type %s is not an integer type", t.DType)
}

func toInt64s[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](d []T) ([]int64, error) {
	out, err := MakeScratch[int64](len(d))
	if err != nil {
		return nil, err
	}
	for i, v := range d {
		out[i] = int64(v)
	}
	return out, nil
}

// FromFloat64s allocates (through ctx) a tensor of element type dt and the given shape and
// stores vals into it as StoreFloat64s does. len(vals) must be the shape's size.
func FromFloat64s(ctx *Context, dt ir.DataType, shape []int64, vals []float64) (*Tensor, error) {
	out := ctx.Alloc(dt, shape...)
	if err := StoreFloat64s(out, vals); err != nil {
		return nil, err
	}
	return out, nil
}

// StoreFloat64s writes vals into dst's elements, converting to its element type: float is
// rounded to nearest even; float16, bfloat16 and float8 are rounded through float32 (float8
// saturating, float8e8m0 rounding up, as Cast's defaults do); integers are truncated toward
// zero (NaN gives 0, values beyond int64 its nearest bound) and then wrap to the width, int4
// and int2 included; bool is v != 0. Strings and complex numbers are an error.
func StoreFloat64s(dst *Tensor, vals []float64) error {
	dt := dst.DType
	switch d := dst.Data.(type) {
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
				d[i] = Float32ToFloat16(float32(v))
			}
		case ir.BFloat16:
			for i, v := range vals {
				d[i] = Float32ToBFloat16(float32(v))
			}
		default:
			for i, v := range vals {
				d[i] = uint16(TruncToInt64(v))
			}
		}
	case []uint8:
		switch {
		case IsFloat8(dt):
			for i, v := range vals {
				d[i] = Float32ToFloat8(dt, float32(v), true)
			}
		case dt == ir.Float8E8M0:
			for i, v := range vals {
				d[i] = Float32ToFloat8E8M0(float32(v), true, E8M0Up)
			}
		case dt == ir.Int4 || dt == ir.Uint4:
			for i, v := range vals {
				d[i] = WrapInt4(TruncToInt64(v))
			}
		case dt == ir.Int2 || dt == ir.Uint2:
			for i, v := range vals {
				d[i] = WrapInt2(TruncToInt64(v))
			}
		default:
			for i, v := range vals {
				d[i] = uint8(TruncToInt64(v))
			}
		}
	case []int8:
		for i, v := range vals {
			d[i] = int8(TruncToInt64(v))
		}
	case []int16:
		for i, v := range vals {
			d[i] = int16(TruncToInt64(v))
		}
	case []int32:
		for i, v := range vals {
			d[i] = int32(TruncToInt64(v))
		}
	case []int64:
		for i, v := range vals {
			d[i] = TruncToInt64(v)
		}
	case []uint32:
		for i, v := range vals {
			d[i] = uint32(TruncToInt64(v))
		}
	case []uint64:
		for i, v := range vals {
			if v >= 1<<63 {
				d[i] = uint64(v) // beyond int64: convert directly
			} else {
				d[i] = uint64(TruncToInt64(v))
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

// TruncToInt64 truncates toward zero. NaN and values beyond the int64 range (undefined in
// ONNX, implementation-defined in Go) give zero or the nearest bound, never a panic.
func TruncToInt64(v float64) int64 {
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

// NormalizeAxis maps a possibly negative axis into [0, rank), counting negative axes from
// the end as ONNX does, and rejects axes outside [-rank, rank).
func NormalizeAxis(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d is out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// NormalizeAxes normalizes each axis as NormalizeAxis does and rejects repeated axes.
func NormalizeAxes(axes []int64, rank int) ([]int, error) {
	out := make([]int, len(axes))
	seen := make([]bool, rank)
	for i, a := range axes {
		n, err := NormalizeAxis(a, rank)
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

// Single returns t as the output list of a kernel with one output, or err when it is not
// nil; it lets a kernel end with `return kernel.Single(kernel.FromFloat64s(...))`.
func Single(t *Tensor, err error) ([]*Tensor, error) {
	if err != nil {
		return nil, err
	}
	return []*Tensor{t}, nil
}
