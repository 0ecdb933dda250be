package grad

import (
	"fmt"

	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	register("Transpose", ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*transposeOp, error) {
		return &transposeOp{kernelFwd: k, perm: ints(b.node.AttrInts("perm", nil))}, nil
	})})
	register("Concat", ruleDef{diff: allInputs, build: withKernel(func(b *nodeBuild, k kernelFwd) (*concatOp, error) {
		return &concatOp{kernelFwd: k, axis: b.node.AttrInt("axis", 0)}, nil
	})})
	register("Split", ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*splitOp, error) {
		return &splitOp{kernelFwd: k, axis: b.node.AttrInt("axis", 0)}, nil
	})})
	register("Slice", ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*sliceOp, error) {
		op := &sliceOp{kernelFwd: k, attrs: b.opset < 10}
		if op.attrs {
			op.starts, op.ends, op.axes = b.node.AttrInts("starts", nil), b.node.AttrInts("ends", nil), b.node.AttrInts("axes", nil)
		}
		return op, nil
	})})
	register("Expand", ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*expandOp, error) {
		return &expandOp{k}, nil
	})})
	register("Gather", ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*gatherOp, error) {
		return &gatherOp{kernelFwd: k, axis: b.node.AttrInt("axis", 0)}, nil
	})})
}

// transposeOp sends the gradient back through the inverse permutation.
type transposeOp struct {
	kernelFwd
	perm []int
}

func (o *transposeOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	xs := f.in[0].Shape
	perm := o.perm
	if perm == nil {
		perm = make([]int, len(xs))
		for i := range perm {
			perm[i] = len(xs) - 1 - i
		}
	}
	if len(perm) != len(xs) {
		return fmt.Errorf("perm %v does not fit input %v", perm, xs)
	}
	xStrides := rowMajorStrides(xs)
	// Output axis d walks input axis perm[d]: scatter with those strides.
	strides := make([]int64, len(perm))
	for d, p := range perm {
		strides[d] = xStrides[p]
	}
	g := gout[0].Float32s()
	gx := newGrad(c, xs)
	d := gx.Float32s()
	walkRows(f.out[0].Shape, [][]int64{strides}, func(o, n int, offs, steps []int) {
		at, step := offs[0], steps[0]
		for k, v := range g[o : o+n] {
			d[at+k*step] = v
		}
	})
	gin[0] = gx
	return nil
}

func rowMajorStrides(shape []int64) []int64 {
	s := make([]int64, len(shape))
	acc := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// outerInner splits shape around axis: the product of the axes before it and after it.
func outerInner(shape []int64, axis int) (outer, inner int) {
	return shapeSize(shape[:axis]), shapeSize(shape[axis+1:])
}

// concatOp hands each input its slab of the output gradient.
type concatOp struct {
	kernelFwd
	axis int64
}

func (o *concatOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	out := f.out[0].Shape
	axis, err := kernel.NormalizeAxis(o.axis, len(out))
	if err != nil {
		return err
	}
	g := gout[0].Float32s()
	outer, inner := outerInner(out, axis)
	rowOut := int(out[axis]) * inner
	at := 0
	for i, x := range f.in {
		if x == nil {
			continue
		}
		width := int(x.Shape[axis]) * inner
		if c.needGrad[i] {
			gx := newGrad(c, x.Shape)
			d := gx.Float32s()
			for r := 0; r < outer; r++ {
				copy(d[r*width:(r+1)*width], g[r*rowOut+at:r*rowOut+at+width])
			}
			gin[i] = gx
		}
		at += width
	}
	return nil
}

// splitOp puts the outputs' gradients side by side (zero for outputs that got none).
type splitOp struct {
	kernelFwd
	axis int64
}

func (o *splitOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	xs := f.in[0].Shape
	axis, err := kernel.NormalizeAxis(o.axis, len(xs))
	if err != nil {
		return err
	}
	outer, inner := outerInner(xs, axis)
	rowIn := int(xs[axis]) * inner
	gx := newGrad(c, xs)
	d := gx.Float32s()
	at := 0
	for k, y := range f.out {
		if y == nil {
			continue
		}
		width := int(y.Shape[axis]) * inner
		for r := 0; r < outer; r++ {
			dst := d[r*rowIn+at : r*rowIn+at+width]
			if gout[k] == nil {
				clear(dst)
			} else {
				copy(dst, gout[k].Float32s()[r*width:(r+1)*width])
			}
		}
		at += width
	}
	if at != rowIn {
		return fmt.Errorf("outputs cover %d of %d elements along axis %d", at/max(inner, 1), xs[axis], axis)
	}
	gin[0] = gx
	return nil
}

// sliceOp scatters the gradient back to the positions the slice read.
type sliceOp struct {
	kernelFwd
	attrs              bool
	starts, ends, axes []int64
}

func (o *sliceOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	xs := f.in[0].Shape
	starts, axes, steps := o.starts, o.axes, []int64(nil)
	if !o.attrs {
		var err error
		if starts, err = kernel.Int64sOf(f.in[1]); err != nil {
			return fmt.Errorf("starts: %w", err)
		}
		if t := kernel.Input(f.in, 3); t != nil {
			if axes, err = kernel.Int64sOf(t); err != nil {
				return fmt.Errorf("axes: %w", err)
			}
		}
		if t := kernel.Input(f.in, 4); t != nil {
			if steps, err = kernel.Int64sOf(t); err != nil {
				return fmt.Errorf("steps: %w", err)
			}
		}
	}
	rank := len(xs)
	begin, step := make([]int64, rank), make([]int64, rank)
	for i := range step {
		step[i] = 1
	}
	for i, s := range starts {
		ax := int64(i)
		if axes != nil {
			ax = axes[i]
		}
		a, err := kernel.NormalizeAxis(ax, rank)
		if err != nil {
			return err
		}
		st := int64(1)
		if steps != nil {
			st = steps[i]
		}
		dim := xs[a]
		if s < 0 {
			s += dim
		}
		if st > 0 {
			s = min(max(s, 0), dim)
		} else {
			s = min(max(s, 0), dim-1)
		}
		begin[a], step[a] = s, st
	}
	xStrides := rowMajorStrides(xs)
	base := 0
	strides := make([]int64, rank)
	for d := range xs {
		base += int(begin[d] * xStrides[d])
		strides[d] = step[d] * xStrides[d]
	}
	g := gout[0].Float32s()
	gx := newZeroGrad(c, xs)
	d := gx.Float32s()
	walkRows(f.out[0].Shape, [][]int64{strides}, func(o, n int, offs, steps []int) {
		at, st := base+offs[0], steps[0]
		for k, v := range g[o : o+n] {
			d[at+k*st] += v
		}
	})
	gin[0] = gx
	return nil
}

// expandOp sums the gradient over the axes Expand broadcast along.
type expandOp struct{ kernelFwd }

func (expandOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	gin[0] = sumTo(c, gout[0].Float32s(), f.out[0].Shape, f.in[0].Shape, 1)
	return nil
}

// gatherOp adds each gathered slab's gradient back into the row it came from (an
// embedding's rows receive the sum over every position that read them).
type gatherOp struct {
	kernelFwd
	axis int64
}

func (o *gatherOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	xs := f.in[0].Shape
	axis, err := kernel.NormalizeAxis(o.axis, len(xs))
	if err != nil {
		return err
	}
	idx, err := kernel.Int64sOf(f.in[1])
	if err != nil {
		return fmt.Errorf("indices: %w", err)
	}
	outer, inner := outerInner(xs, axis)
	dim := int(xs[axis])
	g := gout[0].Float32s()
	gx := newZeroGrad(c, xs)
	d := gx.Float32s()
	for r := 0; r < outer; r++ {
		for j, ix := range idx {
			i := int(ix)
			if i < 0 {
				i += dim
			}
			if i < 0 || i >= dim {
				return fmt.Errorf("index %d is out of range for axis %d of size %d", ix, axis, dim)
			}
			src := g[(r*len(idx)+j)*inner : (r*len(idx)+j+1)*inner]
			axpy(d[(r*dim+i)*inner:(r*dim+i+1)*inner], src, 1)
		}
	}
	gin[0] = gx
	return nil
}
