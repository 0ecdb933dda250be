package tensor

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// comparator returns a three-way comparison of two elements of t by flat position.
// Narrow floats compare by value; NaN orders before every number (cmp.Compare).
func comparator(t *kernel.Tensor) (func(p, q int) int, error) {
	switch d := t.Data.(type) {
	case []float32:
		return cmpOf(d), nil
	case []float64:
		return cmpOf(d), nil
	case []int8:
		return cmpOf(d), nil
	case []int16:
		return cmpOf(d), nil
	case []int32:
		return cmpOf(d), nil
	case []int64:
		return cmpOf(d), nil
	case []uint32:
		return cmpOf(d), nil
	case []uint64:
		return cmpOf(d), nil
	case []string:
		return cmpOf(d), nil
	case []bool:
		return cmpOf(view(d).([]uint8)), nil
	case []uint16:
		if t.DType == ir.Uint16 {
			return cmpOf(d), nil
		}
	case []uint8:
		if t.DType == ir.Uint8 {
			return cmpOf(d), nil
		}
	}
	f, err := kernel.Float64sOf(t)
	if err != nil {
		return nil, err
	}
	return cmpOf(f), nil
}

func cmpOf[T cmp.Ordered](d []T) func(p, q int) int {
	return func(p, q int) int { return cmp.Compare(d[p], d[q]) }
}

// axisLines calls f for every 1-D line of shape along axis: base is the flat offset of its
// first element and stride the step between elements.
func axisLines(shape []int64, axis int, f func(line, base, stride int) error) error {
	outer, inner := kernel.ShapeSize(shape[:axis]), kernel.ShapeSize(shape[axis+1:])
	dim := int(shape[axis])
	if inner == 0 {
		return nil // no lines; outer may then be anything (an empty trailing axis)
	}
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			if err := f(o*inner+i, o*dim*inner+i, inner); err != nil {
				return err
			}
		}
	}
	return nil
}

func newTopK(info *kernel.NodeInfo) (kernel.Kernel, error) {
	axis := info.Node.AttrInt("axis", -1)
	largest := info.Node.AttrInt("largest", 1) != 0
	kAttr := info.Node.AttrInt("k", -1)
	kFromInput := info.Opset >= 10
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "X")
		if err != nil {
			return nil, err
		}
		k := kAttr
		if kFromInput {
			kt, err := need(in, 1, "K")
			if err != nil {
				return nil, err
			}
			v, err := kernel.Int64sOf(kt)
			if err != nil || len(v) != 1 {
				return nil, fmt.Errorf("input K must be a one-element integer tensor")
			}
			k = v[0]
		}
		a, err := kernel.NormalizeAxis(axis, len(x.Shape))
		if err != nil {
			return nil, err
		}
		dim := x.Shape[a]
		if k < 0 || k > dim {
			return nil, fmt.Errorf("k %d is out of range for an axis of size %d", k, dim)
		}
		less, err := comparator(x)
		if err != nil {
			return nil, err
		}
		shape := append([]int64{}, x.Shape...)
		shape[a] = k
		vals := alloc(ctx, x.DType, shape)
		idxT := alloc(ctx, ir.Int64, shape)
		idxOut := idxT.Data.([]int64)
		pos, err := kernel.MakeScratch[int](vals.Len())
		if err != nil {
			return nil, err
		}
		if len(pos) == 0 {
			// k = 0 or an empty x: nothing to select, and the lines of an empty axis may
			// be any number.
			return []*kernel.Tensor{vals, idxT}, nil
		}
		order, err := kernel.MakeScratch[int](int(dim))
		if err != nil {
			return nil, err
		}
		inner := kernel.ShapeSize(x.Shape[a+1:])
		err = axisLines(x.Shape, a, func(line, base, stride int) error {
			for i := range order {
				order[i] = i
			}
			slices.SortStableFunc(order, func(i, j int) int {
				c := less(base+i*stride, base+j*stride)
				if largest {
					c = -c
				}
				return c
			})
			o, in := line/inner, line%inner
			for j := 0; j < int(k); j++ {
				p := (o*int(k)+j)*inner + in
				idxOut[p] = int64(order[j])
				pos[p] = base + order[j]*stride
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		take(vals.Data, x.Data, pos)
		return []*kernel.Tensor{vals, idxT}, nil
	}), nil
}

func newArgExtreme(wantMax bool) kernel.Factory {
	return func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		axis := info.Node.AttrInt("axis", 0)
		keepDims := info.Node.AttrInt("keepdims", 1) != 0
		last := info.Node.AttrInt("select_last_index", 0) != 0
		return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
			x, err := need(in, 0, "data")
			if err != nil {
				return nil, err
			}
			a, err := kernel.NormalizeAxis(axis, len(x.Shape))
			if err != nil {
				return nil, err
			}
			if x.Shape[a] == 0 {
				return nil, fmt.Errorf("cannot take the arg-extreme of an empty axis %d", a)
			}
			compare, err := comparator(x)
			if err != nil {
				return nil, err
			}
			var shape []int64
			for i, d := range x.Shape {
				if i != a {
					shape = append(shape, d)
				} else if keepDims {
					shape = append(shape, 1)
				}
			}
			out := alloc(ctx, ir.Int64, shape)
			d := out.Data.([]int64)
			dim := int(x.Shape[a])
			_ = axisLines(x.Shape, a, func(line, base, stride int) error {
				best := 0
				for i := 1; i < dim; i++ {
					c := compare(base+i*stride, base+best*stride)
					if !wantMax {
						c = -c
					}
					if c > 0 || (c == 0 && last) {
						best = i
					}
				}
				d[line] = int64(best)
				return nil
			})
			return []*kernel.Tensor{out}, nil
		}), nil
	}
}

func newCumSum(info *kernel.NodeInfo) (kernel.Kernel, error) {
	exclusive := info.Node.AttrInt("exclusive", 0) != 0
	reverse := info.Node.AttrInt("reverse", 0) != 0
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "x")
		if err != nil {
			return nil, err
		}
		at, err := need(in, 1, "axis")
		if err != nil {
			return nil, err
		}
		av, err := kernel.Int64sOf(at)
		if err != nil || len(av) != 1 {
			return nil, fmt.Errorf("input axis must be an integer scalar")
		}
		a, err := kernel.NormalizeAxis(av[0], len(x.Shape))
		if err != nil {
			return nil, err
		}
		out := alloc(ctx, x.DType, x.Shape)
		if x.Len() == 0 {
			// Nothing to sum; an empty axis would leave any number of (empty) lines.
			return []*kernel.Tensor{out}, nil
		}
		dim := int(x.Shape[a])
		// One order buffer serves every line: cumsumLines uses it before asking for the next.
		order, err := kernel.MakeScratch[int](dim)
		if err != nil {
			return nil, err
		}
		scan := func(line, base, stride int) []int {
			for i := range order {
				j := i
				if reverse {
					j = dim - 1 - i
				}
				order[i] = base + j*stride
			}
			return order
		}
		switch d := x.Data.(type) {
		case []float32:
			cumsumLines(out.Data.([]float32), d, x.Shape, a, exclusive, scan)
		case []float64:
			cumsumLines(out.Data.([]float64), d, x.Shape, a, exclusive, scan)
		case []int32:
			cumsumLines(out.Data.([]int32), d, x.Shape, a, exclusive, scan)
		case []int64:
			cumsumLines(out.Data.([]int64), d, x.Shape, a, exclusive, scan)
		case []uint32:
			cumsumLines(out.Data.([]uint32), d, x.Shape, a, exclusive, scan)
		case []uint64:
			cumsumLines(out.Data.([]uint64), d, x.Shape, a, exclusive, scan)
		case []int8:
			cumsumLines(out.Data.([]int8), d, x.Shape, a, exclusive, scan)
		case []int16:
			cumsumLines(out.Data.([]int16), d, x.Shape, a, exclusive, scan)
		default:
			if x.DType != ir.Float16 && x.DType != ir.BFloat16 {
				return nil, fmt.Errorf("CumSum of %s is not supported", x.DType)
			}
			f, err := kernel.Float64sOf(x)
			if err != nil {
				return nil, err
			}
			f32, err := kernel.MakeScratch[float32](len(f))
			if err != nil {
				return nil, err
			}
			for i, v := range f {
				f32[i] = float32(v)
			}
			res, err := kernel.MakeScratch[float32](len(f))
			if err != nil {
				return nil, err
			}
			cumsumLines(res, f32, x.Shape, a, exclusive, scan)
			back, err := kernel.MakeScratch[float64](len(res))
			if err != nil {
				return nil, err
			}
			for i, v := range res {
				back[i] = float64(v)
			}
			if err := storeFloat64s(out.Data, x.DType, back); err != nil {
				return nil, err
			}
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

func cumsumLines[T plainNum](dst, src []T, shape []int64, axis int, exclusive bool, scan func(line, base, stride int) []int) {
	_ = axisLines(shape, axis, func(line, base, stride int) error {
		var acc T
		for _, p := range scan(line, base, stride) {
			if exclusive {
				dst[p] = acc
				acc += src[p]
			} else {
				acc += src[p]
				dst[p] = acc
			}
		}
		return nil
	})
}

func newUnique(info *kernel.NodeInfo) (kernel.Kernel, error) {
	sorted := info.Node.AttrInt("sorted", 1) != 0
	axisAttr := info.Node.Attr("axis")
	axis := info.Node.AttrInt("axis", 0)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "X")
		if err != nil {
			return nil, err
		}
		shape := x.Shape
		a := 0
		if axisAttr == nil {
			shape = []int64{int64(x.Len())}
		} else if a, err = kernel.NormalizeAxis(axis, len(x.Shape)); err != nil {
			return nil, err
		}
		compare, err := comparator(x)
		if err != nil {
			return nil, err
		}
		dim := int(shape[a])
		outer, inner := kernel.ShapeSize(shape[:a]), kernel.ShapeSize(shape[a+1:])
		// cmpSlices compares the sub-tensors at positions i and j along the axis. Slices of
		// an empty x are all equal; outer may then be anything, so it is not walked.
		empty := x.Len() == 0
		cmpSlices := func(i, j int) int {
			for o := 0; o < outer && !empty; o++ {
				for k := 0; k < inner; k++ {
					if c := compare((o*dim+i)*inner+k, (o*dim+j)*inner+k); c != 0 {
						return c
					}
				}
			}
			return 0
		}
		// dim is inverse_indices' length, which an empty x may set to anything.
		order, err := kernel.MakeScratch[int](dim)
		if err != nil {
			return nil, err
		}
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, cmpSlices)
		// Group equal slices; each group's first occurrence is its smallest index (stable).
		group, err := kernel.MakeScratch[int](dim) // slice index -> group number (in sorted order)
		if err != nil {
			return nil, err
		}
		var firsts []int
		var counts []int64
		for n, i := range order {
			if n == 0 || cmpSlices(order[n-1], i) != 0 {
				firsts = append(firsts, i)
				counts = append(counts, 0)
			}
			group[i] = len(firsts) - 1
			counts[len(counts)-1]++
		}
		rank := make([]int, len(firsts)) // group number -> output position
		for g := range rank {
			rank[g] = g
		}
		if !sorted {
			byFirst := make([]int, len(firsts))
			for g := range byFirst {
				byFirst[g] = g
			}
			slices.SortFunc(byFirst, func(p, q int) int { return cmp.Compare(firsts[p], firsts[q]) })
			for pos, g := range byFirst {
				rank[g] = pos
			}
		}
		u := len(firsts)
		yShape := append([]int64{}, shape...)
		yShape[a] = int64(u)
		y := alloc(ctx, x.DType, yShape)
		idx := alloc(ctx, ir.Int64, []int64{int64(u)})
		inv := alloc(ctx, ir.Int64, []int64{int64(dim)})
		cnt := alloc(ctx, ir.Int64, []int64{int64(u)})
		for g, f := range firsts {
			p := rank[g]
			idx.Data.([]int64)[p] = int64(f)
			cnt.Data.([]int64)[p] = counts[g]
			for o := 0; o < outer && !empty; o++ {
				copyAt(y.Data, (o*u+p)*inner, x.Data, (o*dim+f)*inner, inner)
			}
		}
		for i := range dim {
			inv.Data.([]int64)[i] = int64(rank[group[i]])
		}
		return []*kernel.Tensor{y, idx, inv, cnt}, nil
	}), nil
}
