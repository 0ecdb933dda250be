package quant

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// intRange returns the representable range of an integer quantized type.
func intRange(dt ir.DataType) (lo, hi int64, ok bool) {
	switch dt {
	case ir.Int8:
		return math.MinInt8, math.MaxInt8, true
	case ir.Uint8:
		return 0, math.MaxUint8, true
	case ir.Int16:
		return math.MinInt16, math.MaxInt16, true
	case ir.Uint16:
		return 0, math.MaxUint16, true
	case ir.Int32:
		return math.MinInt32, math.MaxInt32, true
	case ir.Int4:
		return -8, 7, true
	case ir.Uint4:
		return 0, 15, true
	case ir.Int2:
		return -2, 1, true
	case ir.Uint2:
		return 0, 3, true
	}
	return 0, 0, false
}

// isMiniFloat reports whether dt is a float8 or float4 quantized type.
func isMiniFloat(dt ir.DataType) bool { return kernel.IsFloat8(dt) }

// int32s widens an integer quantized tensor to int32 values.
func int32s(t *kernel.Tensor) ([]int32, error) {
	n := t.Len() // a widened copy of the data: weighed like any scratch
	out, err := kernel.MakeScratch[int32](n)
	if err != nil {
		return nil, err
	}
	switch d := t.Data.(type) {
	case []int8:
		for i, v := range d[:n] {
			out[i] = int32(v)
		}
		return out, nil
	case []int16:
		for i, v := range d[:n] {
			out[i] = int32(v)
		}
		return out, nil
	case []int32:
		copy(out, d[:n])
		return out, nil
	case []uint16:
		if t.DType == ir.Uint16 {
			for i, v := range d[:n] {
				out[i] = int32(v)
			}
			return out, nil
		}
	case []uint8:
		switch t.DType {
		case ir.Uint8, ir.Uint4, ir.Uint2:
			mask := uint8(0xff)
			if t.DType == ir.Uint4 {
				mask = 0x0f
			} else if t.DType == ir.Uint2 {
				mask = 0x03
			}
			for i, v := range d[:n] {
				out[i] = int32(v & mask)
			}
			return out, nil
		case ir.Int4:
			for i, v := range d[:n] {
				out[i] = int32(kernel.Int4ToInt8(v))
			}
			return out, nil
		case ir.Int2:
			for i, v := range d[:n] {
				out[i] = int32(kernel.Int2ToInt8(v))
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("element type %s is not an integer quantized type", t.DType)
}

// storeInts writes saturated integer values into a tensor of integer quantized type dt,
// wrapping sub-byte types into their low bits.
func storeInts(dt ir.DataType, vals []int64, data any) error {
	switch d := data.(type) {
	case []int8:
		for i, v := range vals {
			d[i] = int8(v)
		}
	case []int16:
		for i, v := range vals {
			d[i] = int16(v)
		}
	case []int32:
		for i, v := range vals {
			d[i] = int32(v)
		}
	case []uint16:
		for i, v := range vals {
			d[i] = uint16(v)
		}
	case []uint8:
		switch dt {
		case ir.Int4, ir.Uint4:
			for i, v := range vals {
				d[i] = kernel.WrapInt4(v)
			}
		case ir.Int2, ir.Uint2:
			for i, v := range vals {
				d[i] = kernel.WrapInt2(v)
			}
		default:
			for i, v := range vals {
				d[i] = uint8(v)
			}
		}
	default:
		return fmt.Errorf("cannot store integers as %s", dt)
	}
	return nil
}

// float32s widens a float tensor (float, double, float16, bfloat16, float8, float4 or
// float8e8m0) to float32 values.
func float32s(t *kernel.Tensor) ([]float32, error) {
	n := t.Len() // a widened copy of the data: weighed like any scratch
	out, err := kernel.MakeScratch[float32](n)
	if err != nil {
		return nil, err
	}
	switch d := t.Data.(type) {
	case []float32:
		copy(out, d[:n])
		return out, nil
	case []float64:
		for i, v := range d[:n] {
			out[i] = float32(v)
		}
		return out, nil
	case []uint16:
		switch t.DType {
		case ir.Float16:
			for i, v := range d[:n] {
				out[i] = kernel.Float16ToFloat32(v)
			}
			return out, nil
		case ir.BFloat16:
			for i, v := range d[:n] {
				out[i] = kernel.BFloat16ToFloat32(v)
			}
			return out, nil
		}
	case []uint8:
		switch {
		case t.DType == ir.Float8E8M0:
			for i, v := range d[:n] {
				out[i] = kernel.Float8E8M0ToFloat32(v)
			}
			return out, nil
		case isMiniFloat(t.DType):
			for i, v := range d[:n] {
				out[i] = kernel.Float8ToFloat32(t.DType, v)
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("element type %s is not a float type", t.DType)
}

// storeFloats writes float32 values as float, float16 or bfloat16 (rounding to nearest
// even).
func storeFloats(dt ir.DataType, vals []float32, data any) error {
	switch d := data.(type) {
	case []float32:
		copy(d, vals)
	case []float64:
		for i, v := range vals {
			d[i] = float64(v)
		}
	case []uint16:
		conv := kernel.Float32ToFloat16
		switch dt {
		case ir.BFloat16:
			conv = kernel.Float32ToBFloat16
		case ir.Float16:
		default:
			return fmt.Errorf("cannot store floats as %s", dt)
		}
		for i, v := range vals {
			d[i] = conv(v)
		}
	default:
		return fmt.Errorf("cannot store floats as %s", dt)
	}
	return nil
}

// roundTo rounds v to the precision of dt (float16 and bfloat16 lose bits; float keeps
// them), so that arithmetic the spec performs in a narrow type matches it.
func roundTo(dt ir.DataType, v float32) float32 {
	switch dt {
	case ir.Float16:
		return kernel.Float16ToFloat32(kernel.Float32ToFloat16(v))
	case ir.BFloat16:
		return kernel.BFloat16ToFloat32(kernel.Float32ToBFloat16(v))
	}
	return v
}

// saturateRound rounds v half to even and clamps it to [lo, hi]; NaN becomes 0.
func saturateRound(v float64, lo, hi int64) int64 {
	if v != v {
		return 0
	}
	r := math.RoundToEven(v)
	if r <= float64(lo) {
		return lo
	}
	if r >= float64(hi) {
		return hi
	}
	return int64(r)
}
