package tensor

import (
	"fmt"

	"github.com/whittle-ml/whittle/runtime/kernel"
)

func newTranspose(info *kernel.NodeInfo) (kernel.Kernel, error) {
	permAttr := info.Node.AttrInts("perm", nil)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "data")
		if err != nil {
			return nil, err
		}
		r := len(x.Shape)
		perm := make([]int, r)
		if permAttr == nil {
			for i := range perm {
				perm[i] = r - 1 - i
			}
		} else {
			if len(permAttr) != r {
				return nil, fmt.Errorf("perm %v does not match rank %d", permAttr, r)
			}
			norm, err := kernel.NormalizeAxes(permAttr, r)
			if err != nil {
				return nil, fmt.Errorf("perm: %w", err)
			}
			perm = norm
		}
		shape := make([]int64, r)
		for i, p := range perm {
			shape[i] = x.Shape[p]
		}
		out := alloc(ctx, x.DType, shape)
		transposeInto(out.Data, x.Data, x.Shape, perm)
		return []*kernel.Tensor{out}, nil
	}), nil
}

// transposeInto writes the permutation perm of src (of shape) into dst. Dimensions of size
// 1 are dropped and input dimensions that stay adjacent and in order are merged first, so
// that NCHW->NHWC becomes a batched 2-D transpose, which is done in cache-sized tiles.
func transposeInto(dst, src any, shape []int64, perm []int) {
	if kernel.ShapeSize(shape) == 0 {
		// Nothing to move; the merged loops below could still count out the other axes,
		// which an empty tensor may declare at any size.
		return
	}
	// Merge: walk the output order, extending a group while the next output dim is the
	// input dim right after the previous one.
	type group struct{ first, size int } // first input dim, merged size
	var groups []group
	var lastIn = -2
	for _, p := range perm {
		if shape[p] == 1 {
			continue
		}
		if p == lastIn+1 && len(groups) > 0 {
			groups[len(groups)-1].size *= int(shape[p])
		} else {
			groups = append(groups, group{p, int(shape[p])})
		}
		lastIn = p
	}
	// Input strides of the merged groups: order groups by input position.
	order := make([]int, len(groups))
	for i := range order {
		order[i] = i
	}
	for i := 1; i < len(order); i++ { // insertion sort by first input dim
		for j := i; j > 0 && groups[order[j]].first < groups[order[j-1]].first; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	inStride := make([]int, len(groups))
	acc := 1
	for i := len(order) - 1; i >= 0; i-- {
		inStride[order[i]] = acc
		acc *= groups[order[i]].size
	}
	oshape := make([]int, len(groups))
	for i, g := range groups {
		oshape[i] = g.size
	}
	n := len(groups)
	switch {
	case n == 2 && inStride[0] == 1:
		tile2D(dst, src, 1, oshape[1], oshape[0])
		return
	case n == 3 && inStride[0] == oshape[1]*oshape[2] && inStride[1] == 1:
		tile2D(dst, src, oshape[0], oshape[2], oshape[1])
		return
	}
	if acc == 0 {
		return
	}
	stridedCopy(dst, src, oshape, inStride, 0)
}

// tile2D transposes batch matrices of rows×cols (row-major in src) into cols×rows.
func tile2D(dst, src any, batch, rows, cols int) {
	switch d := view(dst).(type) {
	case []uint8:
		tile2DT(d, view(src).([]uint8), batch, rows, cols)
	case []uint16:
		tile2DT(d, view(src).([]uint16), batch, rows, cols)
	case []uint32:
		tile2DT(d, view(src).([]uint32), batch, rows, cols)
	case []uint64:
		tile2DT(d, view(src).([]uint64), batch, rows, cols)
	case [][2]uint64:
		tile2DT(d, view(src).([][2]uint64), batch, rows, cols)
	case []string:
		tile2DT(d, src.([]string), batch, rows, cols)
	}
}

func tile2DT[T any](dst, src []T, batch, rows, cols int) {
	const blk = 32
	m := rows * cols
	for b := 0; b < batch; b++ {
		s, d := src[b*m:(b+1)*m], dst[b*m:(b+1)*m]
		for i0 := 0; i0 < rows; i0 += blk {
			i1 := min(i0+blk, rows)
			for j0 := 0; j0 < cols; j0 += blk {
				j1 := min(j0+blk, cols)
				for i := i0; i < i1; i++ {
					for j := j0; j < j1; j++ {
						d[j*rows+i] = s[i*cols+j]
					}
				}
			}
		}
	}
}

func newConcat(info *kernel.NodeInfo) (kernel.Kernel, error) {
	if info.Node.Attr("axis") == nil {
		return nil, fmt.Errorf("%s: attribute axis is required", describe(info))
	}
	axis := info.Node.AttrInt("axis", 0)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		if len(in) == 0 {
			return nil, fmt.Errorf("no inputs")
		}
		first, err := need(in, 0, "inputs")
		if err != nil {
			return nil, err
		}
		r := len(first.Shape)
		a, err := kernel.NormalizeAxis(axis, r)
		if err != nil {
			return nil, err
		}
		shape := append([]int64{}, first.Shape...)
		shape[a] = 0
		for i, t := range in {
			if t == nil {
				return nil, fmt.Errorf("input %d is missing", i)
			}
			if len(t.Shape) != r || t.DType != first.DType {
				return nil, fmt.Errorf("input %d is %s, not compatible with %s", i, t, first)
			}
			for k := range t.Shape {
				if k != a && t.Shape[k] != first.Shape[k] {
					return nil, fmt.Errorf("input %d has shape %v, input 0 %v: only axis %d may differ", i, t.Shape, first.Shape, a)
				}
			}
			shape[a] += t.Shape[a]
		}
		out := alloc(ctx, first.DType, shape)
		outer := kernel.ShapeSize(shape[:a])
		inner := kernel.ShapeSize(shape[a+1:])
		rowLen := int(shape[a]) * inner
		off := 0
		for _, t := range in {
			chunk := int(t.Shape[a]) * inner
			for o := 0; o < outer && chunk > 0; o++ { // outer is unbounded by data when chunk is 0
				copyAt(out.Data, o*rowLen+off, t.Data, o*chunk, chunk)
			}
			off += chunk
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

func newSplit(info *kernel.NodeInfo) (kernel.Kernel, error) {
	axis := info.Node.AttrInt("axis", 0)
	nOut := len(info.Node.Outputs())
	splitAttr := info.Node.AttrInts("split", nil)
	numOutputs := info.Node.AttrInt("num_outputs", 0)
	splitFromInput := info.Opset >= 13
	if info.Opset >= 18 && numOutputs > 0 && int(numOutputs) != nOut {
		return nil, fmt.Errorf("%s: num_outputs %d but the node has %d outputs", describe(info), numOutputs, nOut)
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "input")
		if err != nil {
			return nil, err
		}
		a, err := kernel.NormalizeAxis(axis, len(x.Shape))
		if err != nil {
			return nil, err
		}
		dim := x.Shape[a]
		split := splitAttr
		if splitFromInput {
			split = nil
			if t := kernel.Input(in, 1); t != nil {
				if split, err = kernel.Int64sOf(t); err != nil {
					return nil, fmt.Errorf("input split: %w", err)
				}
			}
		}
		if split == nil {
			// Equal parts; with num_outputs (opset 18) the last part may be smaller.
			per := (dim + int64(nOut) - 1) / int64(nOut)
			if numOutputs == 0 && dim%int64(nOut) != 0 {
				return nil, fmt.Errorf("axis %d of size %d does not split into %d equal parts", a, dim, nOut)
			}
			split = make([]int64, nOut)
			left := dim
			for i := range split {
				split[i] = min(per, left)
				left -= split[i]
			}
		}
		if len(split) != nOut {
			return nil, fmt.Errorf("split %v has %d parts for %d outputs", split, len(split), nOut)
		}
		var sum int64
		for _, s := range split {
			if s < 0 {
				return nil, fmt.Errorf("split %v has a negative part", split)
			}
			sum += s
		}
		if sum != dim {
			return nil, fmt.Errorf("split %v sums to %d, not the axis size %d", split, sum, dim)
		}
		outer := kernel.ShapeSize(x.Shape[:a])
		inner := kernel.ShapeSize(x.Shape[a+1:])
		rowLen := int(dim) * inner
		outs := make([]*kernel.Tensor, nOut)
		off := 0
		for i, s := range split {
			shape := append([]int64{}, x.Shape...)
			shape[a] = s
			o := alloc(ctx, x.DType, shape)
			chunk := int(s) * inner
			for r := 0; r < outer && chunk > 0; r++ { // outer is unbounded by data when chunk is 0
				copyAt(o.Data, r*chunk, x.Data, r*rowLen+off, chunk)
			}
			off += chunk
			outs[i] = o
		}
		return outs, nil
	}), nil
}

// sliceParams computes, for one axis of size dim, the first index, the step and the count
// of Slice's selection, clamping start and end as ONNX specifies.
func sliceParams(start, end, step, dim int64) (int64, int64) {
	if dim == 0 {
		// An empty axis slices to nothing in either direction (a negative step would
		// otherwise clamp start to 0 and end to -1 and count one element).
		return 0, 0
	}
	if start < 0 {
		start += dim
	}
	if end < 0 {
		end += dim
	}
	if step > 0 {
		start = max(0, min(start, dim))
		end = max(0, min(end, dim))
		if end <= start {
			return start, 0
		}
		return start, (end - start + step - 1) / step
	}
	start = max(0, min(start, dim-1))
	end = max(-1, min(end, dim-1))
	if end >= start {
		return start, 0
	}
	return start, (start - end + (-step) - 1) / (-step)
}

func newSlice(info *kernel.NodeInfo) (kernel.Kernel, error) {
	fromAttrs := info.Opset < 10
	aStarts, aEnds, aAxes := info.Node.AttrInts("starts", nil), info.Node.AttrInts("ends", nil), info.Node.AttrInts("axes", nil)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "data")
		if err != nil {
			return nil, err
		}
		starts, ends, axes := aStarts, aEnds, aAxes
		var steps []int64
		if !fromAttrs {
			lists := make([][]int64, 5)
			for i, name := range []string{"", "starts", "ends", "axes", "steps"} {
				if i == 0 {
					continue
				}
				t := kernel.Input(in, i)
				if t == nil {
					if i <= 2 {
						return nil, fmt.Errorf("input %s is missing", name)
					}
					continue
				}
				if lists[i], err = kernel.Int64sOf(t); err != nil {
					return nil, fmt.Errorf("input %s: %w", name, err)
				}
			}
			starts, ends, axes, steps = lists[1], lists[2], lists[3], lists[4]
		}
		r := len(x.Shape)
		if len(starts) != len(ends) {
			return nil, fmt.Errorf("%d starts but %d ends", len(starts), len(ends))
		}
		if axes == nil {
			axes = make([]int64, len(starts))
			for i := range axes {
				axes[i] = int64(i)
			}
		}
		if len(axes) != len(starts) || (steps != nil && len(steps) != len(starts)) {
			return nil, fmt.Errorf("starts, ends, axes and steps differ in length")
		}
		norm, err := kernel.NormalizeAxes(axes, r)
		if err != nil {
			return nil, err
		}
		first := make([]int64, r)
		step := make([]int64, r)
		shape := append([]int64{}, x.Shape...)
		for i := range step {
			step[i] = 1
		}
		for i, a := range norm {
			st := int64(1)
			if steps != nil {
				st = steps[i]
			}
			if st == 0 {
				return nil, fmt.Errorf("step for axis %d is zero", a)
			}
			first[a], shape[a] = sliceParams(starts[i], ends[i], st, x.Shape[a])
			step[a] = st
		}
		out := alloc(ctx, x.DType, shape)
		if kernel.ShapeSize(shape) == 0 {
			return []*kernel.Tensor{out}, nil
		}
		in0 := stridesOf(x.Shape)
		off := 0
		strides := make([]int, r)
		for k := range in0 {
			off += int(first[k]) * in0[k]
			strides[k] = in0[k] * int(step[k])
		}
		stridedCopy(out.Data, x.Data, ints(shape), strides, off)
		return []*kernel.Tensor{out}, nil
	}), nil
}
