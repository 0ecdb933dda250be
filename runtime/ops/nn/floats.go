package nn

import (
	"fmt"

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
		out, err := kernel.MakeScratch[float32](len(d))
		if err != nil {
			return nil, err
		}
		for i, v := range d {
			out[i] = float32(v)
		}
		return out, nil
	case []uint16:
		out, err := kernel.MakeScratch[float32](len(d))
		if err != nil {
			return nil, err
		}
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
		return convertTo32(d)
	case []uint8:
		return convertTo32(d)
	case []int16:
		return convertTo32(d)
	case []int32:
		return convertTo32(d)
	case []int64:
		return convertTo32(d)
	case []uint32:
		return convertTo32(d)
	case []uint64:
		return convertTo32(d)
	}
	return nil, fmt.Errorf("element type %s is not supported", t.DType)
}

func convertTo32[T int8 | uint8 | int16 | int32 | int64 | uint32 | uint64](d []T) ([]float32, error) {
	out, err := kernel.MakeScratch[float32](len(d))
	if err != nil {
		return nil, err
	}
	for i, v := range d {
		out[i] = float32(v)
	}
	return out, nil
}

// outF32 is an output under construction: Buf is where the kernel writes float32 results;
// it is the tensor's own buffer for Float, a scratch buffer converted by Done otherwise.
type outF32 struct {
	T   *kernel.Tensor
	Buf []float32
}

// allocOut allocates an output of type dt; every element of Buf must be written. Like
// ctx.Alloc, whose contract it shares, it panics with the *kernel.BudgetError or
// *kernel.ShapeError of a refused allocation (the executor recovers either as the node's
// error): the float32 scratch of a non-float output is part of allocating that output.
func allocOut(ctx *kernel.Context, dt ir.DataType, shape ...int64) outF32 {
	t := ctx.Alloc(dt, shape...)
	if d, ok := t.Data.([]float32); ok {
		return outF32{T: t, Buf: d}
	}
	buf, err := kernel.MakeScratch[float32](t.NumElements())
	if err != nil {
		panic(err)
	}
	return outF32{T: t, Buf: buf}
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

// The shared conversions of package kernel, under short local names.
var (
	f16ToF32  = kernel.Float16ToFloat32
	f32ToF16  = kernel.Float32ToFloat16
	bf16ToF32 = kernel.BFloat16ToFloat32
	f32ToBF16 = kernel.Float32ToBFloat16
)

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

// wantOutput reports whether the node uses output i.
func wantOutput(n *ir.Node, i int) bool { return n.Output(i) != nil && n.Output(i).Name != "" }

// opErr prefixes an error with the node's description.
func opErr(n *ir.Node, format string, args ...any) error {
	// The format is appended, not rendered into %s, so that a %w in it keeps the error
	// it wraps (a *kernel.BudgetError stays errors.Is ErrMemoryBudget).
	return fmt.Errorf("%s: "+format, append([]any{n.Describe()}, args...)...)
}
