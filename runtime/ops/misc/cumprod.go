package misc

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "CumProd", SinceVersion: 26,
		Types: []ir.DataType{ir.Float, ir.Double, ir.Float16, ir.BFloat16, ir.Int32, ir.Int64, ir.Uint32, ir.Uint64},
		New:   newCumProd})
}

func newCumProd(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	exclusive := n.AttrInt("exclusive", 0) != 0
	reverse := n.AttrInt("reverse", 0) != 0
	return kfunc(n, func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, axisT := kernel.Input(in, 0), kernel.Input(in, 1)
		if x == nil || axisT == nil {
			return nil, fmt.Errorf("inputs x and axis are required")
		}
		axis, err := scalarInt(axisT, "axis")
		if err != nil {
			return nil, err
		}
		r := int64(len(x.Shape))
		if axis < -r || axis >= r || r == 0 {
			return nil, fmt.Errorf("axis %d is out of range for shape %v", axis, x.Shape)
		}
		if axis < 0 {
			axis += r
		}
		l := scan{outer: kernel.ShapeSize(x.Shape[:axis]), dim: int(x.Shape[axis]), inner: kernel.ShapeSize(x.Shape[axis+1:]),
			exclusive: exclusive, reverse: reverse}
		switch x.DType {
		case ir.Int32:
			out := ctx.Alloc(x.DType, x.Shape...)
			cumProd(l, x.Data.([]int32), out.Data.([]int32))
			return []*kernel.Tensor{out}, nil
		case ir.Int64:
			out := ctx.Alloc(x.DType, x.Shape...)
			cumProd(l, x.Data.([]int64), out.Data.([]int64))
			return []*kernel.Tensor{out}, nil
		case ir.Uint32:
			out := ctx.Alloc(x.DType, x.Shape...)
			cumProd(l, x.Data.([]uint32), out.Data.([]uint32))
			return []*kernel.Tensor{out}, nil
		case ir.Uint64:
			out := ctx.Alloc(x.DType, x.Shape...)
			cumProd(l, x.Data.([]uint64), out.Data.([]uint64))
			return []*kernel.Tensor{out}, nil
		case ir.Double:
			out := ctx.Alloc(x.DType, x.Shape...)
			cumProd(l, x.Data.([]float64), out.Data.([]float64))
			return []*kernel.Tensor{out}, nil
		case ir.Float, ir.Float16, ir.BFloat16:
			// Products of float32 (and half) run in float64, rounded once at the end.
			v, err := kernel.FloatsOf(x)
			if err != nil {
				return nil, err
			}
			res, err := kernel.MakeScratch[float64](len(v))
			if err != nil {
				return nil, err
			}
			cumProd(l, v, res)
			return kernel.Single(kernel.FromFloat64s(ctx, x.DType, x.Shape, res))
		}
		return nil, fmt.Errorf("element type %s is not supported", x.DType)
	}), nil
}

// scan describes a cumulative operation along the middle axis of an outer×dim×inner array.
type scan struct {
	outer, dim, inner  int
	exclusive, reverse bool
}

func cumProd[T int32 | int64 | uint32 | uint64 | float64](l scan, x, y []T) {
	for o := 0; o < l.outer; o++ {
		for i := 0; i < l.inner; i++ {
			acc := T(1)
			for s := 0; s < l.dim; s++ {
				j := s
				if l.reverse {
					j = l.dim - 1 - s
				}
				at := (o*l.dim+j)*l.inner + i
				if l.exclusive {
					y[at] = acc
					acc *= x[at]
				} else {
					acc *= x[at]
					y[at] = acc
				}
			}
		}
	}
}
