package nn

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// floatTypes are the element types the float kernels of this package accept.
var floatTypes = []ir.DataType{ir.Float, ir.Double, ir.Float16, ir.BFloat16}

// asF32 returns t's elements as float32: Data itself for a float tensor (do not modify it),
// a converted copy for the other float types and for integer types.
func asF32(t *kernel.Tensor) ([]float32, error) {
	switch d := t.Data.(type) {
	case []float32:
		return d, nil
	case []float64:
		out := make([]float32, len(d))
		for i, v := range d {
			out[i] = float32(v)
		}
		return out, nil
	case []uint16:
		out := make([]float32, len(d))
		switch t.DType {
		case ir.Float16:
			for i, v := range d {
				out[i] = f16ToF32(v)
			}
		case ir.BFloat16:
			for i, v := range d {
				out[i] = bf16ToF32(v)
			}
		default:
			for i, v := range d {
				out[i] = float32(v)
			}
		}
		return out, nil
	case []int8:
		return convertTo32(d), nil
	case []uint8:
		return convertTo32(d), nil
	case []int16:
		return convertTo32(d), nil
	case []int32:
		return convertTo32(d), nil
	case []int64:
		return convertTo32(d), nil
	case []uint32:
		return convertTo32(d), nil
	case []uint64:
		return convertTo32(d), nil
	}
	return nil, fmt.Errorf("element type %s is not supported", t.DType)
}

func convertTo32[T int8 | uint8 | int16 | int32 | int64 | uint32 | uint64](d []T) []float32 {
	out := make([]float32, len(d))
	for i, v := range d {
		out[i] = float32(v)
	}
	return out
}

// outF32 is an output under construction: Buf is where the kernel writes float32 results;
// it is the tensor's own buffer for Float, a scratch buffer converted by Done otherwise.
type outF32 struct {
	T   *kernel.Tensor
	Buf []float32
}

// allocOut allocates an output of type dt; every element of Buf must be written.
func allocOut(ctx *kernel.Context, dt ir.DataType, shape ...int64) outF32 {
	t := ctx.Alloc(dt, shape...)
	if d, ok := t.Data.([]float32); ok {
		return outF32{T: t, Buf: d}
	}
	return outF32{T: t, Buf: make([]float32, t.NumElements())}
}

// Done converts Buf into the tensor when the two differ, and returns the tensor.
func (o outF32) Done() *kernel.Tensor {
	switch d := o.T.Data.(type) {
	case []float32:
	case []float64:
		for i, v := range o.Buf {
			d[i] = float64(v)
		}
	case []uint16:
		switch o.T.DType {
		case ir.Float16:
			for i, v := range o.Buf {
				d[i] = f32ToF16(v)
			}
		case ir.BFloat16:
			for i, v := range o.Buf {
				d[i] = f32ToBF16(v)
			}
		default:
			for i, v := range o.Buf {
				d[i] = uint16(v)
			}
		}
	case []int8:
		convertFrom32(d, o.Buf)
	case []uint8:
		convertFrom32(d, o.Buf)
	case []int16:
		convertFrom32(d, o.Buf)
	case []int32:
		convertFrom32(d, o.Buf)
	case []int64:
		convertFrom32(d, o.Buf)
	case []uint32:
		convertFrom32(d, o.Buf)
	case []uint64:
		convertFrom32(d, o.Buf)
	}
	return o.T
}

func convertFrom32[T int8 | uint8 | int16 | int32 | int64 | uint32 | uint64](dst []T, src []float32) {
	for i, v := range src {
		dst[i] = T(v)
	}
}

// f16ToF32 widens IEEE half-precision bits.
// TODO(nn): switch to kernel.Float16ToFloat32 once runtime/kernel/float16.go exists.
func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: value is mant * 2^-24.
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// f32ToF16 narrows to half precision, rounding to nearest even.
// TODO(nn): switch to kernel.Float32ToFloat16 once runtime/kernel/float16.go exists.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		rest := mant & (1<<shift - 1)
		v := mant >> shift
		if rest > half || (rest == half && v&1 == 1) {
			v++
		}
		return sign | uint16(v)
	}
	v := uint32(e)<<10 | mant>>13
	rest := mant & 0x1fff
	if rest > 0x1000 || (rest == 0x1000 && v&1 == 1) {
		v++ // may carry into the exponent, which is the correct rounding
	}
	return sign | uint16(v)
}

// bf16ToF32 widens bfloat16 bits.
func bf16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// f32ToBF16 narrows to bfloat16, rounding to nearest even.
func f32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if f != f {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	a := axis
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 || a >= int64(rank) {
		return 0, fmt.Errorf("axis %d is out of range for rank %d", axis, rank)
	}
	return int(a), nil
}

// prod multiplies dims.
func prod(dims []int64) int {
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	return n
}

// constF32 returns the float32 values of constant input i of the node, or nil.
func constF32(info *kernel.NodeInfo, i int) []float32 {
	if i >= len(info.Consts) || info.Consts[i] == nil {
		return nil
	}
	d, err := asF32(info.Consts[i])
	if err != nil {
		return nil
	}
	return d
}

// input returns inputs[i], or nil when it is absent.
func input(inputs []*kernel.Tensor, i int) *kernel.Tensor {
	if i < len(inputs) && inputs[i] != nil && inputs[i].Kind == kernel.TensorValue {
		return inputs[i]
	}
	return nil
}

// wantOutput reports whether the node uses output i.
func wantOutput(n *ir.Node, i int) bool { return n.Output(i) != nil && n.Output(i).Name != "" }

// opErr prefixes an error with the node's description.
func opErr(n *ir.Node, format string, args ...any) error {
	return fmt.Errorf("%s: %s", n.Describe(), fmt.Sprintf(format, args...))
}
