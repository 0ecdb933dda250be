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

// need returns in[i] or an error naming the missing input.
func need(in []*kernel.Tensor, i int, name string) (*kernel.Tensor, error) {
	if t := kernel.Input(in, i); t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("input %d (%s) is missing", i, name)
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

// storeFloat64s writes vals into dst (of element type dt) as Cast converts float64 values.
// kernel.StoreFloat64s rounds the narrow floats through float32, which can round twice;
// passing it narrowOdd's float32 instead makes the one rounding to the narrow type exact.
func storeFloat64s(dst any, dt ir.DataType, vals []float64) error {
	if isHalf(dt) {
		odd, err := kernel.MakeScratch[float64](len(vals))
		if err != nil {
			return err
		}
		for i, v := range vals {
			odd[i] = float64(narrowOdd(v))
		}
		vals = odd
	}
	return kernel.StoreFloat64s(&kernel.Tensor{DType: dt, Data: dst}, vals)
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
