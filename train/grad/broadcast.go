package grad

import (
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// walkRows visits a broadcast of operands over out in row-major order, one innermost row
// at a time: fn gets the offset o of the row's first output element, the row length n,
// and for each operand its offset at the row start and its step along the row (0 where
// the operand is broadcast). strides are the operands' kernel.BroadcastStrides.
func walkRows(out []int64, strides [][]int64, fn func(o, n int, offs, steps []int)) {
	total := shapeSize(out)
	if total == 0 {
		return
	}
	nd := len(out)
	offs, steps := make([]int, len(strides)), make([]int, len(strides))
	if nd == 0 {
		fn(0, 1, offs, steps)
		return
	}
	n := int(out[nd-1])
	for k, s := range strides {
		steps[k] = int(s[nd-1])
	}
	idx := make([]int, nd-1)
	for o := 0; o < total; o += n {
		fn(o, n, offs, steps)
		// Advance the outer index and every operand offset with it.
		for d := nd - 2; d >= 0; d-- {
			idx[d]++
			for k, s := range strides {
				offs[k] += int(s[d])
			}
			if idx[d] < int(out[d]) {
				break
			}
			for k, s := range strides {
				offs[k] -= int(s[d]) * int(out[d])
			}
			idx[d] = 0
		}
	}
}

// sumTo returns g (of shape out) summed down to shape in, which broadcasts to out: the
// gradient of a broadcast operand, scaled by alpha.
func sumTo(c *runCtx, g []float32, out, in []int64, alpha float32) *kernel.Tensor {
	dst := newGrad(c, in)
	d := dst.Float32s()
	if kernel.SameShape(in, out) {
		if alpha == 1 {
			copy(d, g)
		} else {
			for i, v := range g {
				d[i] = alpha * v
			}
		}
		return dst
	}
	clear(d)
	walkRows(out, [][]int64{kernel.BroadcastStrides(in, out)}, func(o, n int, offs, steps []int) {
		at, step := offs[0], steps[0]
		row := g[o : o+n]
		if step == 0 {
			var s float32
			for _, v := range row {
				s += v
			}
			d[at] += alpha * s
			return
		}
		for k, v := range row {
			d[at+k*step] += alpha * v
		}
	})
	return dst
}

// sumProductTo returns Σ alpha·g·x summed down to shape in, where g has shape out and x
// (of shape xs) broadcasts to out: the gradient of one factor of a broadcast product.
func sumProductTo(c *runCtx, g []float32, out []int64, x []float32, xs, in []int64, alpha float32) *kernel.Tensor {
	dst := newZeroGrad(c, in)
	d := dst.Float32s()
	walkRows(out, [][]int64{kernel.BroadcastStrides(in, out), kernel.BroadcastStrides(xs, out)}, func(o, n int, offs, steps []int) {
		row := g[o : o+n]
		di, ds, xi, xstep := offs[0], steps[0], offs[1], steps[1]
		for k, v := range row {
			d[di+k*ds] += alpha * v * x[xi+k*xstep]
		}
	})
	return dst
}
