package elementwise

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/runtime/kernel"
)

type arithOp int

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv
	opMax
	opMin
	opMod  // integer-style modulo: the result takes the divisor's sign (Mod fmod=0)
	opFmod // C fmod: the result takes the dividend's sign (Mod fmod=1)
)

func init() {
	for _, op := range []struct {
		name string
		op   arithOp
	}{{"Add", opAdd}, {"Sub", opSub}, {"Mul", opMul}, {"Div", opDiv}} {
		op := op
		reg(op.name, 1, numericTypes, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
			lb := parseLegacy(info)
			return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
				a, b, err := twoInputs(in)
				if err != nil {
					return nil, err
				}
				out, err := arith(ctx, op.op, a, b, lb.bShape(a.Shape, b.Shape))
				return []*kernel.Tensor{out}, err
			}), nil
		})
	}
	reg("Mod", 10, numericTypes, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		fmod := info.Node.AttrInt("fmod", 0)
		if fmod != 0 && fmod != 1 {
			return nil, fmt.Errorf("attribute fmod must be 0 or 1, got %d", fmod)
		}
		op := opMod
		if fmod == 1 {
			op = opFmod
		}
		return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
			a, b, err := twoInputs(in)
			if err != nil {
				return nil, err
			}
			out, err := arith(ctx, op, a, b, b.Shape)
			return []*kernel.Tensor{out}, err
		}), nil
	})
	reg("Max", 1, numericTypes, fixed(variadic(opMax, false)))
	reg("Min", 1, numericTypes, fixed(variadic(opMin, false)))
	reg("Sum", 1, numericTypes, fixed(variadic(opAdd, false)))
	reg("Mean", 1, floatTypes, fixed(variadic(opAdd, true)))
	reg("Pow", 1, numericTypes, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		lb := parseLegacy(info)
		return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
			a, b, err := twoInputs(in)
			if err != nil {
				return nil, err
			}
			out, err := pow(ctx, a, b, lb.bShape(a.Shape, b.Shape))
			return []*kernel.Tensor{out}, err
		}), nil
	})
}

func twoInputs(in []*kernel.Tensor) (a, b *kernel.Tensor, err error) {
	if a, err = tensorInput(in, 0); err != nil {
		return nil, nil, err
	}
	if b, err = tensorInput(in, 1); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

// arith computes a op b with broadcasting; bShape is b's shape as broadcasting sees it.
func arith(ctx *kernel.Context, op arithOp, a, b *kernel.Tensor, bShape []int64) (*kernel.Tensor, error) {
	if err := sameType(a, b); err != nil {
		return nil, err
	}
	shape, err := kernel.BroadcastShapes(a.Shape, bShape)
	if err != nil {
		return nil, err
	}
	out := ctx.Alloc(a.DType, shape...)
	if err := arithInto(op, out, a.Data, a.Shape, b.Data, bShape); err != nil {
		return nil, err
	}
	return out, nil
}

// arithInto writes a op b into out (whose shape is the broadcast shape). out may be a.
func arithInto(op arithOp, out *kernel.Tensor, a any, aShape []int64, b any, bShape []int64) error {
	s := out.Shape
	switch o := out.Data.(type) {
	case []float32:
		arithFloat(op, o, s, a.([]float32), aShape, b.([]float32), bShape)
	case []float64:
		arithFloat(op, o, s, a.([]float64), aShape, b.([]float64), bShape)
	case []int8:
		arithSigned(op, o, s, a.([]int8), aShape, b.([]int8), bShape)
	case []int16:
		arithSigned(op, o, s, a.([]int16), aShape, b.([]int16), bShape)
	case []int32:
		arithSigned(op, o, s, a.([]int32), aShape, b.([]int32), bShape)
	case []int64:
		arithSigned(op, o, s, a.([]int64), aShape, b.([]int64), bShape)
	case []uint8:
		arithUnsigned(op, o, s, a.([]uint8), aShape, b.([]uint8), bShape)
	case []uint16:
		arithUnsigned(op, o, s, a.([]uint16), aShape, b.([]uint16), bShape)
	case []uint32:
		arithUnsigned(op, o, s, a.([]uint32), aShape, b.([]uint32), bShape)
	case []uint64:
		arithUnsigned(op, o, s, a.([]uint64), aShape, b.([]uint64), bShape)
	default:
		return unsupported("arithmetic", out.DType)
	}
	return nil
}

// arithCommon handles the operations whose definition is the same for every numeric type,
// with direct loops for the common equal-shape and scalar cases. It reports false for ops
// it leaves to the caller.
func arithCommon[T number](op arithOp, out []T, shape []int64, a []T, as []int64, b []T, bs []int64) bool {
	same := len(a) == len(out) && len(b) == len(out)
	scalarB := len(b) == 1 && len(a) == len(out)
	switch op {
	case opAdd:
		switch {
		case same:
			for i := range out {
				out[i] = a[i] + b[i]
			}
		case scalarB:
			y := b[0]
			for i := range out {
				out[i] = a[i] + y
			}
		default:
			kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T { return x + y })
		}
	case opSub:
		switch {
		case same:
			for i := range out {
				out[i] = a[i] - b[i]
			}
		case scalarB:
			y := b[0]
			for i := range out {
				out[i] = a[i] - y
			}
		default:
			kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T { return x - y })
		}
	case opMul:
		switch {
		case same:
			for i := range out {
				out[i] = a[i] * b[i]
			}
		case scalarB:
			y := b[0]
			for i := range out {
				out[i] = a[i] * y
			}
		default:
			kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T { return x * y })
		}
	case opMax:
		// NaN propagates, as numpy.maximum does.
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T {
			if x > y || x != x {
				return x
			}
			return y
		})
	case opMin:
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T {
			if x < y || x != x {
				return x
			}
			return y
		})
	default:
		return false
	}
	return true
}

func arithFloat[T float](op arithOp, out []T, shape []int64, a []T, as []int64, b []T, bs []int64) {
	if arithCommon(op, out, shape, a, as, b, bs) {
		return
	}
	switch op {
	case opDiv:
		if len(a) == len(out) && len(b) == len(out) {
			for i := range out {
				out[i] = a[i] / b[i]
			}
			return
		}
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T { return x / y })
	case opFmod:
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T { return T(math.Mod(float64(x), float64(y))) })
	case opMod:
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T {
			r := math.Mod(float64(x), float64(y))
			if r != 0 && (r < 0) != (y < 0) {
				r += float64(y)
			}
			return T(r)
		})
	}
}

// Integer division and modulo by zero have no defined result in ONNX; they give 0 here
// instead of panicking.

func arithSigned[T signed](op arithOp, out []T, shape []int64, a []T, as []int64, b []T, bs []int64) {
	if arithCommon(op, out, shape, a, as, b, bs) {
		return
	}
	switch op {
	case opDiv:
		// Go's / truncates toward zero, as C does; MinInt / -1 wraps to MinInt.
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T {
			if y == 0 {
				return 0
			}
			return x / y
		})
	case opFmod:
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T {
			if y == 0 {
				return 0
			}
			return x % y
		})
	case opMod:
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T {
			if y == 0 {
				return 0
			}
			r := x % y
			if r != 0 && (r < 0) != (y < 0) {
				r += y
			}
			return r
		})
	}
}

func arithUnsigned[T unsigned](op arithOp, out []T, shape []int64, a []T, as []int64, b []T, bs []int64) {
	if arithCommon(op, out, shape, a, as, b, bs) {
		return
	}
	switch op {
	case opDiv:
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T {
			if y == 0 {
				return 0
			}
			return x / y
		})
	case opMod, opFmod:
		kernel.Binary(out, shape, a, as, b, bs, func(x, y T) T {
			if y == 0 {
				return 0
			}
			return x % y
		})
	}
}

// variadic folds its inputs pairwise (Max, Min, Sum, Mean) with multidirectional
// broadcasting; Mean divides the sum by the input count.
func variadic(op arithOp, mean bool) kernel.KernelFunc {
	return func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		var ts []*kernel.Tensor
		for i := range in {
			t, err := tensorInput(in, i)
			if err != nil {
				return nil, err
			}
			if len(ts) > 0 {
				if err := sameType(ts[0], t); err != nil {
					return nil, err
				}
			}
			ts = append(ts, t)
		}
		if len(ts) == 0 {
			return nil, fmt.Errorf("needs at least one input")
		}
		shapes := make([][]int64, len(ts))
		for i, t := range ts {
			shapes[i] = t.Shape
		}
		shape, err := kernel.BroadcastShapes(shapes...)
		if err != nil {
			return nil, err
		}
		out := ctx.Alloc(ts[0].DType, shape...)
		if err := broadcastInto(out, ts[0]); err != nil {
			return nil, err
		}
		for _, t := range ts[1:] {
			if err := arithInto(op, out, out.Data, shape, t.Data, t.Shape); err != nil {
				return nil, err
			}
		}
		if mean {
			n := float64(len(ts))
			switch d := out.Data.(type) {
			case []float32:
				for i := range d {
					d[i] = float32(float64(d[i]) / n)
				}
			case []float64:
				for i := range d {
					d[i] /= n
				}
			default:
				return nil, unsupported("Mean", out.DType)
			}
		}
		return []*kernel.Tensor{out}, nil
	}
}

// broadcastInto copies t into out, repeating it over out's shape.
func broadcastInto(out, t *kernel.Tensor) error {
	switch o := out.Data.(type) {
	case []float32:
		kernel.BroadcastTo(o, out.Shape, t.Data.([]float32), t.Shape)
	case []float64:
		kernel.BroadcastTo(o, out.Shape, t.Data.([]float64), t.Shape)
	case []int8:
		kernel.BroadcastTo(o, out.Shape, t.Data.([]int8), t.Shape)
	case []int16:
		kernel.BroadcastTo(o, out.Shape, t.Data.([]int16), t.Shape)
	case []int32:
		kernel.BroadcastTo(o, out.Shape, t.Data.([]int32), t.Shape)
	case []int64:
		kernel.BroadcastTo(o, out.Shape, t.Data.([]int64), t.Shape)
	case []uint8:
		kernel.BroadcastTo(o, out.Shape, t.Data.([]uint8), t.Shape)
	case []uint16:
		kernel.BroadcastTo(o, out.Shape, t.Data.([]uint16), t.Shape)
	case []uint32:
		kernel.BroadcastTo(o, out.Shape, t.Data.([]uint32), t.Shape)
	case []uint64:
		kernel.BroadcastTo(o, out.Shape, t.Data.([]uint64), t.Shape)
	case []bool:
		kernel.BroadcastTo(o, out.Shape, t.Data.([]bool), t.Shape)
	case []string:
		kernel.BroadcastTo(o, out.Shape, t.Data.([]string), t.Shape)
	default:
		return unsupported("broadcast", out.DType)
	}
	return nil
}

// pow computes a^b; b may have another numeric type than a (Pow-12+), the result has a's.
func pow(ctx *kernel.Context, a, b *kernel.Tensor, bShape []int64) (*kernel.Tensor, error) {
	shape, err := kernel.BroadcastShapes(a.Shape, bShape)
	if err != nil {
		return nil, err
	}
	out := ctx.Alloc(a.DType, shape...)
	// Integer base and integer exponent: exact integer power.
	if bi, ok := b.Data.([]int64); ok {
		if ai, ok := a.Data.([]int64); ok {
			kernel.Binary(out.Data.([]int64), shape, ai, a.Shape, bi, bShape, intPow[int64])
			return out, nil
		}
	}
	if bi, ok := b.Data.([]int32); ok {
		if ai, ok := a.Data.([]int32); ok {
			kernel.Binary(out.Data.([]int32), shape, ai, a.Shape, bi, bShape, intPow[int32])
			return out, nil
		}
	}
	exp, err := kernel.Float64sOf(b)
	if err != nil {
		return nil, err
	}
	switch d := a.Data.(type) {
	case []float32:
		// A float32 exponent of 2, 0.5 ... is computed in float64 and rounded once.
		if len(exp) == 1 && exp[0] == 2 {
			o := out.Data.([]float32)
			for i, x := range d {
				o[i] = x * x
			}
			return out, nil
		}
		kernel.Binary(out.Data.([]float32), shape, d, a.Shape, exp, bShape, func(x float32, y float64) float32 {
			return float32(math.Pow(float64(x), y))
		})
	case []float64:
		kernel.Binary(out.Data.([]float64), shape, d, a.Shape, exp, bShape, math.Pow)
	case []int32:
		kernel.Binary(out.Data.([]int32), shape, d, a.Shape, exp, bShape, func(x int32, y float64) int32 {
			return int32(math.Pow(float64(x), y))
		})
	case []int64:
		kernel.Binary(out.Data.([]int64), shape, d, a.Shape, exp, bShape, func(x int64, y float64) int64 {
			return int64(math.Pow(float64(x), y))
		})
	default:
		return nil, unsupported("Pow", a.DType)
	}
	return out, nil
}

func intPow[T signed](x, y T) T {
	if y < 0 {
		switch x {
		case 1:
			return 1
		case -1:
			if y%2 == 0 {
				return 1
			}
			return -1
		}
		return 0
	}
	r := T(1)
	for y > 0 {
		if y&1 == 1 {
			r *= x
		}
		x *= x
		y >>= 1
	}
	return r
}
