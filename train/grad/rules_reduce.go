package grad

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	for _, name := range []string{"Softmax", "LogSoftmax"} {
		register(name, ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*softmaxOp, error) {
			def := int64(-1)
			if b.opset < 13 {
				def = 1
			}
			return &softmaxOp{kernelFwd: k, axis: b.node.AttrInt("axis", def), coerce2D: b.opset < 13, log: b.node.OpType == "LogSoftmax"}, nil
		})})
	}
	for _, name := range []string{"ReduceSum", "ReduceMean"} {
		register(name, ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*reduceOp, error) {
			n := b.node
			// The axes moved from an attribute to an input: ReduceSum at opset 13, the others at 18.
			axesInput := (n.OpType == "ReduceSum" && b.opset >= 13) || b.opset >= 18
			return &reduceOp{kernelFwd: k, mean: n.OpType == "ReduceMean", axesInput: axesInput,
				axes: n.AttrInts("axes", nil), keepDims: n.AttrInt("keepdims", 1) != 0,
				noopEmpty: n.AttrInt("noop_with_empty_axes", 0) != 0}, nil
		})})
	}
}

// softmaxOp: for y = softmax(x) along the group, dx = y ⊙ (g − Σ g⊙y); for log-softmax,
// dx = g − exp(y)·Σ g. Before opset 13 the group is all axes from axis on (the input is
// coerced to 2-D); from 13 it is the one axis.
type softmaxOp struct {
	kernelFwd
	axis          int64
	coerce2D, log bool
}

func (o *softmaxOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	ys := f.out[0].Shape
	axis, err := kernel.NormalizeAxis(o.axis, len(ys))
	if err != nil {
		return err
	}
	outer, size, inner := shapeSize(ys[:axis]), int(1), shapeSize(ys[axis+1:])
	if len(ys) > 0 {
		size = int(ys[axis])
	}
	if o.coerce2D {
		size, inner = size*inner, 1
	}
	y, g := f.out[0].Float32s(), gout[0].Float32s()
	gx := newGrad(c, f.in[0].Shape)
	d := gx.Float32s()
	for r := 0; r < outer; r++ {
		for i := 0; i < inner; i++ {
			base := r*size*inner + i
			var s float64
			for k := 0; k < size; k++ {
				at := base + k*inner
				if o.log {
					s += float64(g[at])
				} else {
					s += float64(g[at]) * float64(y[at])
				}
			}
			for k := 0; k < size; k++ {
				at := base + k*inner
				if o.log {
					d[at] = g[at] - float32(math.Exp(float64(y[at]))*s)
				} else {
					d[at] = y[at] * (g[at] - float32(s))
				}
			}
		}
	}
	gin[0] = gx
	return nil
}

// reduceOp spreads the gradient of ReduceSum (as is) and ReduceMean (divided by the number
// of elements reduced) back over the reduced axes.
type reduceOp struct {
	kernelFwd
	mean, axesInput, keepDims, noopEmpty bool
	axes                                 []int64
}

func (o *reduceOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	xs := f.in[0].Shape
	axes := o.axes
	if o.axesInput {
		axes = nil
		if t := kernel.Input(f.in, 1); t != nil {
			var err error
			if axes, err = kernel.Int64sOf(t); err != nil {
				return fmt.Errorf("axes: %w", err)
			}
		}
	}
	g := gout[0].Float32s()
	gx := newGrad(c, xs)
	d := gx.Float32s()
	if len(axes) == 0 && o.noopEmpty {
		copy(d, g)
		gin[0] = gx
		return nil
	}
	// The output in keepdims form: size 1 on every reduced axis.
	kept := append([]int64(nil), xs...)
	if len(axes) == 0 {
		for i := range kept {
			kept[i] = 1
		}
	}
	for _, a := range axes {
		ax, err := kernel.NormalizeAxis(a, len(xs))
		if err != nil {
			return err
		}
		kept[ax] = 1
	}
	scale := float32(1)
	if o.mean {
		if n := shapeSize(kept); n > 0 {
			scale = float32(n) / float32(shapeSize(xs))
		}
	}
	walkRows(xs, [][]int64{kernel.BroadcastStrides(kept, xs)}, func(o, n int, offs, steps []int) {
		at, step := offs[0], steps[0]
		for k := 0; k < n; k++ {
			d[o+k] = scale * g[at+k*step]
		}
	})
	gin[0] = gx
	return nil
}
