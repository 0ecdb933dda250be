package elementwise

import (
	"cmp"
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

type cmpOp int

const (
	cmpEq cmpOp = iota
	cmpGt
	cmpLt
	cmpGe
	cmpLe
)

type bitOp int

const (
	bitAnd bitOp = iota
	bitOr
	bitXor
)

func init() {
	for _, c := range []struct {
		name  string
		op    cmpOp
		since int64
	}{{"Equal", cmpEq, 1}, {"Greater", cmpGt, 1}, {"Less", cmpLt, 1}, {"GreaterOrEqual", cmpGe, 12}, {"LessOrEqual", cmpLe, 12}} {
		c := c
		reg(c.name, c.since, compareTypes, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
			lb := parseLegacy(info)
			return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
				a, b, err := twoInputs(in)
				if err != nil {
					return nil, err
				}
				out, err := compare(ctx, c.op, a, b, lb.bShape(a.Shape, b.Shape))
				return []*kernel.Tensor{out}, err
			}), nil
		})
	}
	for _, l := range []struct {
		name string
		f    func(x, y bool) bool
	}{
		{"And", func(x, y bool) bool { return x && y }},
		{"Or", func(x, y bool) bool { return x || y }},
		{"Xor", func(x, y bool) bool { return x != y }},
	} {
		l := l
		reg(l.name, 1, boolTypes, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
			lb := parseLegacy(info)
			return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
				a, b, err := twoInputs(in)
				if err != nil {
					return nil, err
				}
				ad, ok1 := a.Data.([]bool)
				bd, ok2 := b.Data.([]bool)
				if !ok1 || !ok2 {
					return nil, fmt.Errorf("inputs must be bool, got %s and %s", a.DType, b.DType)
				}
				bs := lb.bShape(a.Shape, b.Shape)
				shape, err := kernel.BroadcastShapes(a.Shape, bs)
				if err != nil {
					return nil, err
				}
				out := ctx.Alloc(ir.Bool, shape...)
				kernel.Binary(out.Data.([]bool), shape, ad, a.Shape, bd, bs, l.f)
				return []*kernel.Tensor{out}, nil
			}), nil
		})
	}
	reg("Not", 1, boolTypes, fixed(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := tensorInput(in, 0)
		if err != nil {
			return nil, err
		}
		d, ok := x.Data.([]bool)
		if !ok {
			return nil, unsupported("Not", x.DType)
		}
		out := ctx.Alloc(ir.Bool, x.Shape...)
		o := out.Data.([]bool)
		for i, v := range d {
			o[i] = !v
		}
		return []*kernel.Tensor{out}, nil
	}))
	for _, b := range []struct {
		name string
		op   bitOp
	}{{"BitwiseAnd", bitAnd}, {"BitwiseOr", bitOr}, {"BitwiseXor", bitXor}} {
		b := b
		reg(b.name, 18, intTypes, fixed(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
			x, y, err := twoInputs(in)
			if err != nil {
				return nil, err
			}
			out, err := bitwise(ctx, b.op, x, y)
			return []*kernel.Tensor{out}, err
		}))
	}
	reg("BitwiseNot", 18, intTypes, fixed(signedMap(nil,
		func(x int64) int64 { return ^x },
		func(x uint64) uint64 { return ^x })))
	reg("BitShift", 11, uintTypes, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		dir := info.Node.AttrString("direction", "")
		if dir != "LEFT" && dir != "RIGHT" {
			return nil, fmt.Errorf("attribute direction must be LEFT or RIGHT, got %q", dir)
		}
		left := dir == "LEFT"
		return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
			x, y, err := twoInputs(in)
			if err != nil {
				return nil, err
			}
			if err := sameType(x, y); err != nil {
				return nil, err
			}
			shape, err := kernel.BroadcastShapes(x.Shape, y.Shape)
			if err != nil {
				return nil, err
			}
			out := ctx.Alloc(x.DType, shape...)
			switch d := x.Data.(type) {
			case []uint8:
				shift(out.Data.([]uint8), shape, d, x.Shape, y.Data.([]uint8), y.Shape, left)
			case []uint16:
				shift(out.Data.([]uint16), shape, d, x.Shape, y.Data.([]uint16), y.Shape, left)
			case []uint32:
				shift(out.Data.([]uint32), shape, d, x.Shape, y.Data.([]uint32), y.Shape, left)
			case []uint64:
				shift(out.Data.([]uint64), shape, d, x.Shape, y.Data.([]uint64), y.Shape, left)
			default:
				return nil, unsupported("BitShift", x.DType)
			}
			return []*kernel.Tensor{out}, nil
		}), nil
	})
	reg("IsNaN", 9, floatTypes, fixed(floatPredicate(func(x float64) bool { return x != x })))
	reg("IsInf", 10, floatTypes, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		neg := info.Node.AttrInt("detect_negative", 1) != 0
		pos := info.Node.AttrInt("detect_positive", 1) != 0
		return floatPredicate(func(x float64) bool {
			return (pos && math.IsInf(x, 1)) || (neg && math.IsInf(x, -1))
		}), nil
	})
}

// compare computes a boolean comparison with broadcasting.
func compare(ctx *kernel.Context, op cmpOp, a, b *kernel.Tensor, bShape []int64) (*kernel.Tensor, error) {
	if err := sameType(a, b); err != nil {
		return nil, err
	}
	shape, err := kernel.BroadcastShapes(a.Shape, bShape)
	if err != nil {
		return nil, err
	}
	out := ctx.Alloc(ir.Bool, shape...)
	o := out.Data.([]bool)
	switch d := a.Data.(type) {
	case []float32:
		compareT(op, o, shape, d, a.Shape, b.Data.([]float32), bShape)
	case []float64:
		compareT(op, o, shape, d, a.Shape, b.Data.([]float64), bShape)
	case []int8:
		compareT(op, o, shape, d, a.Shape, b.Data.([]int8), bShape)
	case []int16:
		compareT(op, o, shape, d, a.Shape, b.Data.([]int16), bShape)
	case []int32:
		compareT(op, o, shape, d, a.Shape, b.Data.([]int32), bShape)
	case []int64:
		compareT(op, o, shape, d, a.Shape, b.Data.([]int64), bShape)
	case []uint8:
		compareT(op, o, shape, d, a.Shape, b.Data.([]uint8), bShape)
	case []uint16:
		compareT(op, o, shape, d, a.Shape, b.Data.([]uint16), bShape)
	case []uint32:
		compareT(op, o, shape, d, a.Shape, b.Data.([]uint32), bShape)
	case []uint64:
		compareT(op, o, shape, d, a.Shape, b.Data.([]uint64), bShape)
	case []string:
		compareT(op, o, shape, d, a.Shape, b.Data.([]string), bShape)
	case []bool:
		if op != cmpEq {
			return nil, unsupported("ordered comparison", a.DType)
		}
		kernel.Binary(o, shape, d, a.Shape, b.Data.([]bool), bShape, func(x, y bool) bool { return x == y })
	default:
		return nil, unsupported("comparison", a.DType)
	}
	return out, nil
}

func compareT[T cmp.Ordered](op cmpOp, out []bool, shape []int64, a []T, as []int64, b []T, bs []int64) {
	var f func(x, y T) bool
	switch op {
	case cmpEq:
		f = func(x, y T) bool { return x == y }
	case cmpGt:
		f = func(x, y T) bool { return x > y }
	case cmpLt:
		f = func(x, y T) bool { return x < y }
	case cmpGe:
		f = func(x, y T) bool { return x >= y }
	case cmpLe:
		f = func(x, y T) bool { return x <= y }
	}
	kernel.Binary(out, shape, a, as, b, bs, f)
}

func bitwise(ctx *kernel.Context, op bitOp, a, b *kernel.Tensor) (*kernel.Tensor, error) {
	if err := sameType(a, b); err != nil {
		return nil, err
	}
	shape, err := kernel.BroadcastShapes(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	out := ctx.Alloc(a.DType, shape...)
	switch d := a.Data.(type) {
	case []int8:
		bitwiseT(op, out.Data.([]int8), shape, d, a.Shape, b.Data.([]int8), b.Shape)
	case []int16:
		bitwiseT(op, out.Data.([]int16), shape, d, a.Shape, b.Data.([]int16), b.Shape)
	case []int32:
		bitwiseT(op, out.Data.([]int32), shape, d, a.Shape, b.Data.([]int32), b.Shape)
	case []int64:
		bitwiseT(op, out.Data.([]int64), shape, d, a.Shape, b.Data.([]int64), b.Shape)
	case []uint8:
		bitwiseT(op, out.Data.([]uint8), shape, d, a.Shape, b.Data.([]uint8), b.Shape)
	case []uint16:
		bitwiseT(op, out.Data.([]uint16), shape, d, a.Shape, b.Data.([]uint16), b.Shape)
	case []uint32:
		bitwiseT(op, out.Data.([]uint32), shape, d, a.Shape, b.Data.([]uint32), b.Shape)
	case []uint64:
		bitwiseT(op, out.Data.([]uint64), shape, d, a.Shape, b.Data.([]uint64), b.Shape)
	default:
		return nil, unsupported("bitwise operation", a.DType)
	}
	return out, nil
}

func bitwiseT[T integer](op bitOp, out []T, shape []int64, a []T, as []int64, b []T, bs []int64) {
	switch op {
	case bitAnd:
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T { return x & y })
	case bitOr:
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T { return x | y })
	case bitXor:
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T { return x ^ y })
	}
}

// shift shifts x by y bits; shifting by the width or more gives 0, as Go defines it.
func shift[T unsigned](out []T, shape []int64, x []T, xs []int64, y []T, ys []int64, left bool) {
	if left {
		kernel.Binary(out, shape, x, xs, y, ys, func(a, b T) T { return a << b })
	} else {
		kernel.Binary(out, shape, x, xs, y, ys, func(a, b T) T { return a >> b })
	}
}

// floatPredicate maps a float tensor to a bool tensor.
func floatPredicate(p func(float64) bool) kernel.KernelFunc {
	return func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := tensorInput(in, 0)
		if err != nil {
			return nil, err
		}
		out := ctx.Alloc(ir.Bool, x.Shape...)
		o := out.Data.([]bool)
		switch d := x.Data.(type) {
		case []float32:
			for i, v := range d {
				o[i] = p(float64(v))
			}
		case []float64:
			for i, v := range d {
				o[i] = p(v)
			}
		default:
			return nil, unsupported("float predicate", x.DType)
		}
		return []*kernel.Tensor{out}, nil
	}
}
