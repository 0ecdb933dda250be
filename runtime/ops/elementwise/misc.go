package elementwise

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/internal/nprand"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	reg("Where", 9, nil, fixed(where))
	reg("SwiGLU", 28, floatTypes, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		alpha := float64(info.Node.AttrFloat("alpha", 1))
		return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
			return swiglu(ctx, in, alpha)
		}), nil
	})
	// Identity is registered by package tensor (it returns its input, which the session
	// treats as a view).
	reg("PRelu", 1, numericTypes, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		legacy := info.Opset < 7
		return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
			return prelu(ctx, in, legacy)
		}), nil
	})
	regRange("Clip", 1, 10, floatTypes, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		lo := float64(info.Node.AttrFloat("min", -math.MaxFloat32))
		hi := float64(info.Node.AttrFloat("max", math.MaxFloat32))
		return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
			x, err := tensorInput(in, 0)
			if err != nil {
				return nil, err
			}
			out, err := clip(ctx, x, &lo, &hi)
			return []*kernel.Tensor{out}, err
		}), nil
	})
	reg("Clip", 11, numericTypes, fixed(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := tensorInput(in, 0)
		if err != nil {
			return nil, err
		}
		var bounds [2]*float64
		for i := 1; i <= 2; i++ {
			if i >= len(in) || in[i] == nil {
				continue
			}
			b, err := tensorInput(in, i)
			if err != nil {
				return nil, err
			}
			if err := sameType(x, b); err != nil {
				return nil, err
			}
			if b.Len() != 1 {
				return nil, fmt.Errorf("input %d must be a scalar, has shape %v", i, b.Shape)
			}
			v, err := kernel.Float64sOf(b)
			if err != nil {
				return nil, err
			}
			bounds[i-1] = &v[0]
		}
		out, err := clip(ctx, x, bounds[0], bounds[1])
		return []*kernel.Tensor{out}, err
	}))
	regRange("Dropout", 1, 11, nil, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		// Before opset 12 Dropout has no training input: in inference it is the identity.
		boolMask := info.Opset >= 10
		return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
			x, err := tensorInput(in, 0)
			if err != nil {
				return nil, err
			}
			maskType := x.DType
			if boolMask {
				maskType = ir.Bool
			}
			return []*kernel.Tensor{x, onesMask(ctx, maskType, x.Shape)}, nil
		}), nil
	})
	reg("Dropout", 12, nil, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		seed, hasSeed := info.Node.AttrInt("seed", 0), info.Node.Attr("seed") != nil
		return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
			return dropout(ctx, in, seed, hasSeed)
		}), nil
	})
}

// where selects from x where cond holds and from y elsewhere, broadcasting all three.
func where(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	if len(in) < 3 || in[0] == nil || in[1] == nil || in[2] == nil {
		return nil, fmt.Errorf("needs 3 inputs")
	}
	c, x, y := in[0], in[1], in[2]
	cd, ok := c.Data.([]bool)
	if !ok {
		return nil, fmt.Errorf("condition must be bool, got %s", c.DType)
	}
	if x.DType != y.DType {
		return nil, fmt.Errorf("X and Y have different element types: %s and %s", x.DType, y.DType)
	}
	shape, err := kernel.BroadcastShapes(c.Shape, x.Shape, y.Shape)
	if err != nil {
		return nil, err
	}
	out := ctx.Alloc(x.DType, shape...)
	switch o := out.Data.(type) {
	case []float32:
		whereT(o, shape, cd, c.Shape, x.Data.([]float32), x.Shape, y.Data.([]float32), y.Shape)
	case []float64:
		whereT(o, shape, cd, c.Shape, x.Data.([]float64), x.Shape, y.Data.([]float64), y.Shape)
	case []uint16:
		whereT(o, shape, cd, c.Shape, x.Data.([]uint16), x.Shape, y.Data.([]uint16), y.Shape)
	case []int8:
		whereT(o, shape, cd, c.Shape, x.Data.([]int8), x.Shape, y.Data.([]int8), y.Shape)
	case []int16:
		whereT(o, shape, cd, c.Shape, x.Data.([]int16), x.Shape, y.Data.([]int16), y.Shape)
	case []int32:
		whereT(o, shape, cd, c.Shape, x.Data.([]int32), x.Shape, y.Data.([]int32), y.Shape)
	case []int64:
		whereT(o, shape, cd, c.Shape, x.Data.([]int64), x.Shape, y.Data.([]int64), y.Shape)
	case []uint8:
		whereT(o, shape, cd, c.Shape, x.Data.([]uint8), x.Shape, y.Data.([]uint8), y.Shape)
	case []uint32:
		whereT(o, shape, cd, c.Shape, x.Data.([]uint32), x.Shape, y.Data.([]uint32), y.Shape)
	case []uint64:
		whereT(o, shape, cd, c.Shape, x.Data.([]uint64), x.Shape, y.Data.([]uint64), y.Shape)
	case []bool:
		whereT(o, shape, cd, c.Shape, x.Data.([]bool), x.Shape, y.Data.([]bool), y.Shape)
	case []string:
		whereT(o, shape, cd, c.Shape, x.Data.([]string), x.Shape, y.Data.([]string), y.Shape)
	case []complex64:
		whereT(o, shape, cd, c.Shape, x.Data.([]complex64), x.Shape, y.Data.([]complex64), y.Shape)
	case []complex128:
		whereT(o, shape, cd, c.Shape, x.Data.([]complex128), x.Shape, y.Data.([]complex128), y.Shape)
	default:
		return nil, unsupported("Where", x.DType)
	}
	return []*kernel.Tensor{out}, nil
}

func whereT[T any](out []T, shape []int64, c []bool, cs []int64, x []T, xs []int64, y []T, ys []int64) {
	kernel.Ternary(out, shape, c, cs, x, xs, y, ys, func(c bool, x, y T) T {
		if c {
			return x
		}
		return y
	})
}

// prelu computes x<0 ? slope*x : x, the slope broadcasting to x. Before opset 7 a 1-D
// slope of size C applies per channel (axis 1), as PyTorch exports PReLU(num_parameters=C).
func prelu(ctx *kernel.Context, in []*kernel.Tensor, legacy bool) ([]*kernel.Tensor, error) {
	x, s, err := twoInputs(in)
	if err != nil {
		return nil, err
	}
	if err := sameType(x, s); err != nil {
		return nil, err
	}
	sShape := s.Shape
	if legacy && len(sShape) == 1 && len(x.Shape) >= 2 && sShape[0] == x.Shape[1] && sShape[0] != 1 {
		sShape = make([]int64, len(x.Shape)-1)
		for i := range sShape {
			sShape[i] = 1
		}
		sShape[0] = s.Shape[0]
	}
	s = &kernel.Tensor{DType: s.DType, Shape: sShape, Data: s.Data}
	shape, err := kernel.BroadcastShapes(x.Shape, s.Shape)
	if err != nil {
		return nil, err
	}
	out := ctx.Alloc(x.DType, shape...)
	switch d := x.Data.(type) {
	case []float32:
		preluT(out.Data.([]float32), shape, d, x.Shape, s.Data.([]float32), s.Shape)
	case []float64:
		preluT(out.Data.([]float64), shape, d, x.Shape, s.Data.([]float64), s.Shape)
	case []int8:
		preluT(out.Data.([]int8), shape, d, x.Shape, s.Data.([]int8), s.Shape)
	case []int16:
		preluT(out.Data.([]int16), shape, d, x.Shape, s.Data.([]int16), s.Shape)
	case []int32:
		preluT(out.Data.([]int32), shape, d, x.Shape, s.Data.([]int32), s.Shape)
	case []int64:
		preluT(out.Data.([]int64), shape, d, x.Shape, s.Data.([]int64), s.Shape)
	case []uint8:
		preluT(out.Data.([]uint8), shape, d, x.Shape, s.Data.([]uint8), s.Shape)
	case []uint16:
		preluT(out.Data.([]uint16), shape, d, x.Shape, s.Data.([]uint16), s.Shape)
	case []uint32:
		preluT(out.Data.([]uint32), shape, d, x.Shape, s.Data.([]uint32), s.Shape)
	case []uint64:
		preluT(out.Data.([]uint64), shape, d, x.Shape, s.Data.([]uint64), s.Shape)
	default:
		return nil, unsupported("PRelu", x.DType)
	}
	return []*kernel.Tensor{out}, nil
}

func preluT[T number](out []T, shape []int64, x []T, xs []int64, s []T, ss []int64) {
	kernel.Binary(out, shape, x, xs, s, ss, func(v, a T) T {
		if v < 0 {
			return a * v
		}
		return v
	})
}

// clip bounds x to [lo, hi] (nil for no bound). When lo > hi every value becomes hi, as the
// spec says: the upper bound is applied last.
func clip(ctx *kernel.Context, x *kernel.Tensor, lo, hi *float64) (*kernel.Tensor, error) {
	out := ctx.Alloc(x.DType, x.Shape...)
	switch d := x.Data.(type) {
	case []float32:
		clipT(out.Data.([]float32), d, lo, hi)
	case []float64:
		clipT(out.Data.([]float64), d, lo, hi)
	case []int8:
		clipT(out.Data.([]int8), d, lo, hi)
	case []int16:
		clipT(out.Data.([]int16), d, lo, hi)
	case []int32:
		clipT(out.Data.([]int32), d, lo, hi)
	case []int64:
		clipInt64(out.Data.([]int64), d, lo, hi)
	case []uint8:
		clipT(out.Data.([]uint8), d, lo, hi)
	case []uint16:
		clipT(out.Data.([]uint16), d, lo, hi)
	case []uint32:
		clipT(out.Data.([]uint32), d, lo, hi)
	case []uint64:
		clipT(out.Data.([]uint64), d, lo, hi)
	default:
		return nil, unsupported("Clip", x.DType)
	}
	return out, nil
}

func clipT[T number](out, x []T, lo, hi *float64) {
	// Bounds come from tensors of x's own type (or float attributes for floats), so the
	// conversion back is exact; float bounds of ±MaxFloat32 stay finite for float32.
	l, h := boundOf[T](lo, false), boundOf[T](hi, true)
	for i, v := range x {
		if v < l {
			v = l
		}
		if v > h {
			v = h
		}
		out[i] = v
	}
}

// boundOf converts an optional bound to T; absent, it is T's extreme value.
func boundOf[T number](b *float64, upper bool) T {
	if b != nil {
		return T(*b)
	}
	var zero T
	if isFloat[T]() {
		if upper {
			return T(math.Inf(1))
		}
		return T(math.Inf(-1))
	}
	// Integer extremes: 0-1 wraps to the unsigned maximum, or gives -1 for signed types,
	// whose maximum is then built bit by bit.
	minusOne := zero
	minusOne--
	if minusOne > zero {
		if upper {
			return minusOne
		}
		return zero
	}
	var maxV T = 1
	for maxV*2+1 > maxV {
		maxV = maxV*2 + 1
	}
	if upper {
		return maxV
	}
	return -maxV - 1
}

// clipInt64 keeps int64 bounds exact (float64 cannot hold every int64).
func clipInt64(out, x []int64, lo, hi *float64) {
	l, h := int64(math.MinInt64), int64(math.MaxInt64)
	if lo != nil {
		l = int64(*lo)
	}
	if hi != nil {
		h = int64(*hi)
	}
	for i, v := range x {
		out[i] = min(max(v, l), h)
	}
}

func onesMask(ctx *kernel.Context, dt ir.DataType, shape []int64) *kernel.Tensor {
	m := ctx.Alloc(dt, shape...)
	switch d := m.Data.(type) {
	case []bool:
		for i := range d {
			d[i] = true
		}
	case []float32:
		for i := range d {
			d[i] = 1
		}
	case []float64:
		for i := range d {
			d[i] = 1
		}
	case []uint16:
		one := kernel.Float32ToFloat16(1)
		if dt == ir.BFloat16 {
			one = kernel.Float32ToBFloat16(1)
		}
		for i := range d {
			d[i] = one
		}
	}
	return m
}

// dropout is Dropout-12+: the identity unless training_mode is true and ratio > 0, in which
// case elements are dropped at random and the rest scaled by 1/(1-ratio).
func dropout(ctx *kernel.Context, in []*kernel.Tensor, seed int64, hasSeed bool) ([]*kernel.Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input 0 is missing")
	}
	x := in[0]
	ratio := 0.5
	if len(in) > 1 && in[1] != nil {
		r, err := scalarFloat(in[1])
		if err != nil {
			return nil, fmt.Errorf("ratio: %w", err)
		}
		ratio = r
	}
	training := false
	if len(in) > 2 && in[2] != nil {
		b, ok := in[2].Data.([]bool)
		if !ok || len(b) != 1 {
			return nil, fmt.Errorf("training_mode must be a bool scalar")
		}
		training = b[0]
	}
	if !training || ratio == 0 {
		return []*kernel.Tensor{x, onesMask(ctx, ir.Bool, x.Shape)}, nil
	}
	if ratio < 0 || ratio >= 1 {
		return nil, fmt.Errorf("ratio %g is outside [0, 1)", ratio)
	}
	// With a seed, draw like numpy's legacy generator, which the ONNX reference uses.
	var uniform func() float64
	if hasSeed {
		uniform = nprand.New(uint32(seed)).Float64
	} else {
		uniform = rand.Float64
	}
	mask := ctx.Alloc(ir.Bool, x.Shape...)
	md := mask.Data.([]bool)
	for i := range md {
		md[i] = uniform() >= ratio
	}
	scale := 1 / (1 - ratio)
	out := ctx.Alloc(x.DType, x.Shape...)
	switch d := x.Data.(type) {
	case []float32:
		o := out.Data.([]float32)
		for i, v := range d {
			if md[i] {
				o[i] = float32(float64(v) * scale)
			} else {
				o[i] = 0
			}
		}
	case []float64:
		o := out.Data.([]float64)
		for i, v := range d {
			if md[i] {
				o[i] = v * scale
			} else {
				o[i] = 0
			}
		}
	default:
		return nil, unsupported("training Dropout", x.DType)
	}
	return []*kernel.Tensor{out, mask}, nil
}

// scalarFloat reads a one-element float tensor of any float width.
func scalarFloat(t *kernel.Tensor) (float64, error) {
	if t.Len() != 1 {
		return 0, fmt.Errorf("must be a scalar, has shape %v", t.Shape)
	}
	v, err := kernel.FloatsOf(t)
	if err != nil {
		return 0, unsupported("scalar", t.DType)
	}
	return v[0], nil
}

// swiglu computes Swish_alpha(a) * b for equally shaped a and b (no broadcasting).
func swiglu(ctx *kernel.Context, in []*kernel.Tensor, alpha float64) ([]*kernel.Tensor, error) {
	a, b, err := twoInputs(in)
	if err != nil {
		return nil, err
	}
	if err := sameType(a, b); err != nil {
		return nil, err
	}
	if !kernel.SameShape(a.Shape, b.Shape) {
		return nil, fmt.Errorf("A has shape %v and B %v; SwiGLU does not broadcast", a.Shape, b.Shape)
	}
	out := ctx.Alloc(a.DType, a.Shape...)
	switch ad := a.Data.(type) {
	case []float32:
		bd, o := b.Data.([]float32), out.Data.([]float32)
		for i, x := range ad {
			v := float64(x)
			o[i] = float32(v * sigmoid(alpha*v) * float64(bd[i]))
		}
	case []float64:
		bd, o := b.Data.([]float64), out.Data.([]float64)
		for i, v := range ad {
			o[i] = v * sigmoid(alpha*v) * bd[i]
		}
	default:
		return nil, unsupported("SwiGLU", a.DType)
	}
	return []*kernel.Tensor{out}, nil
}
