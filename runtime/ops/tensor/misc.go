package tensor

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func newTrilu(info *kernel.NodeInfo) (kernel.Kernel, error) {
	upper := info.Node.AttrInt("upper", 1) != 0
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "input")
		if err != nil {
			return nil, err
		}
		if len(x.Shape) < 2 {
			return nil, fmt.Errorf("input must have rank at least 2, has shape %v", x.Shape)
		}
		var k int64
		if kt := kernel.Input(in, 1); kt != nil {
			v, err := kernel.Int64sOf(kt)
			if err != nil || len(v) != 1 {
				return nil, fmt.Errorf("input k must be an integer scalar")
			}
			k = v[0]
		}
		out := alloc(ctx, x.DType, x.Shape)
		copyAt(out.Data, 0, x.Data, 0, x.Len())
		zero, _ := kernel.MakeSlice(x.DType, 1)
		r := len(x.Shape)
		rows, cols := int(x.Shape[r-2]), int(x.Shape[r-1])
		mats := kernel.ShapeSize(x.Shape[:r-2])
		// An empty x may declare any mats·rows over no columns: nothing to zero.
		for b := 0; b < mats && x.Len() > 0; b++ {
			for i := 0; i < rows; i++ {
				for j := 0; j < cols; j++ {
					d := int64(j - i)
					if (upper && d < k) || (!upper && d > k) {
						copyAt(out.Data, (b*rows+i)*cols+j, zero, 0, 1)
					}
				}
			}
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

func newOneHot(info *kernel.NodeInfo) (kernel.Kernel, error) {
	axis := info.Node.AttrInt("axis", -1)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		it, err := need(in, 0, "indices")
		if err != nil {
			return nil, err
		}
		dt, err := need(in, 1, "depth")
		if err != nil {
			return nil, err
		}
		vt, err := need(in, 2, "values")
		if err != nil {
			return nil, err
		}
		if vt.Len() != 2 {
			return nil, fmt.Errorf("values must hold [off, on], has %d elements", vt.Len())
		}
		idxF, err := kernel.Float64sOf(it)
		if err != nil {
			return nil, fmt.Errorf("input indices: %w", err)
		}
		depthF, err := kernel.Float64sOf(dt)
		if err != nil || len(depthF) != 1 {
			return nil, fmt.Errorf("depth must be a numeric scalar")
		}
		depth := int64(depthF[0])
		if depth < 1 || depth > maxElements {
			return nil, fmt.Errorf("depth %d is out of range", depth)
		}
		r := len(it.Shape) + 1
		a, err := kernel.NormalizeAxis(axis, r)
		if err != nil {
			return nil, err
		}
		shape := append(append(append([]int64{}, it.Shape[:a]...), depth), it.Shape[a:]...)
		if _, err := checkedNumel(shape); err != nil {
			return nil, err
		}
		out := alloc(ctx, vt.DType, shape)
		fillWith(out.Data, vt.Data, 0)
		outer, inner := kernel.ShapeSize(it.Shape[:a]), kernel.ShapeSize(it.Shape[a:])
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				v := int64(idxF[o*inner+i])
				if v < 0 {
					v += depth
				}
				if v < 0 || v >= depth {
					continue
				}
				copyAt(out.Data, (o*int(depth)+int(v))*inner+i, vt.Data, 1, 1)
			}
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

// permuteAs views src as viewShape, transposes it by perm and writes the result to dst.
func permuteAs(dst, src any, viewShape []int64, perm []int) {
	transposeInto(dst, src, viewShape, perm)
}

func newDepthToSpace(info *kernel.NodeInfo) (kernel.Kernel, error) {
	b := info.Node.AttrInt("blocksize", 0)
	mode := info.Node.AttrString("mode", "DCR")
	if b <= 0 || b > 1<<31 {
		return nil, fmt.Errorf("%s: blocksize %d must be in [1, 2^31]", describe(info), b)
	}
	if mode != "DCR" && mode != "CRD" {
		return nil, fmt.Errorf("%s: mode %q is not DCR or CRD", describe(info), mode)
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "input")
		if err != nil {
			return nil, err
		}
		if len(x.Shape) != 4 || x.Shape[1]%(b*b) != 0 {
			return nil, fmt.Errorf("input %v must be NCHW with C divisible by %d", x.Shape, b*b)
		}
		n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		cc := c / (b * b)
		out := alloc(ctx, x.DType, []int64{n, cc, h * b, w * b})
		if mode == "DCR" {
			permuteAs(out.Data, x.Data, []int64{n, b, b, cc, h, w}, []int{0, 3, 4, 1, 5, 2})
		} else {
			permuteAs(out.Data, x.Data, []int64{n, cc, b, b, h, w}, []int{0, 1, 4, 2, 5, 3})
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

func newSpaceToDepth(info *kernel.NodeInfo) (kernel.Kernel, error) {
	b := info.Node.AttrInt("blocksize", 0)
	if b <= 0 || b > 1<<31 {
		return nil, fmt.Errorf("%s: blocksize %d must be in [1, 2^31]", describe(info), b)
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "input")
		if err != nil {
			return nil, err
		}
		if len(x.Shape) != 4 || x.Shape[2]%b != 0 || x.Shape[3]%b != 0 {
			return nil, fmt.Errorf("input %v must be NCHW with H and W divisible by %d", x.Shape, b)
		}
		n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		out := alloc(ctx, x.DType, []int64{n, c * b * b, h / b, w / b})
		permuteAs(out.Data, x.Data, []int64{n, c, h / b, b, w / b, b}, []int{0, 3, 5, 1, 2, 4})
		return []*kernel.Tensor{out}, nil
	}), nil
}

func newReverseSequence(info *kernel.NodeInfo) (kernel.Kernel, error) {
	batchAxis := int(info.Node.AttrInt("batch_axis", 1))
	timeAxis := int(info.Node.AttrInt("time_axis", 0))
	if !((batchAxis == 0 && timeAxis == 1) || (batchAxis == 1 && timeAxis == 0)) {
		return nil, fmt.Errorf("%s: batch_axis %d and time_axis %d must be 0 and 1", describe(info), batchAxis, timeAxis)
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "input")
		if err != nil {
			return nil, err
		}
		lt, err := need(in, 1, "sequence_lens")
		if err != nil {
			return nil, err
		}
		lens, err := kernel.Int64sOf(lt)
		if err != nil {
			return nil, fmt.Errorf("input sequence_lens: %w", err)
		}
		if len(x.Shape) < 2 || int64(len(lens)) != x.Shape[batchAxis] {
			return nil, fmt.Errorf("sequence_lens has %d entries for input %v", len(lens), x.Shape)
		}
		st := stridesOf(x.Shape)
		inner := kernel.ShapeSize(x.Shape[2:])
		steps := int(x.Shape[timeAxis])
		out := alloc(ctx, x.DType, x.Shape)
		for b, l := range lens {
			if l < 0 || l > int64(steps) {
				return nil, fmt.Errorf("sequence length %d is out of range [0, %d]", l, steps)
			}
			for t := 0; t < steps; t++ {
				src := t
				if int64(t) < l {
					src = int(l) - 1 - t
				}
				copyAt(out.Data, b*st[batchAxis]+t*st[timeAxis], x.Data, b*st[batchAxis]+src*st[timeAxis], inner)
			}
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

func newNonZero(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "X")
		if err != nil {
			return nil, err
		}
		var nz []bool
		if b, ok := x.Data.([]bool); ok {
			nz = b
		} else if x.DType == ir.String {
			if nz, err = kernel.MakeScratch[bool](x.Len()); err != nil {
				return nil, err
			}
			for i, s := range x.Data.([]string) {
				nz[i] = s != ""
			}
		} else {
			vals, err := kernel.Float64sOf(x)
			if err != nil {
				return nil, err
			}
			if nz, err = kernel.MakeScratch[bool](len(vals)); err != nil {
				return nil, err
			}
			for i, v := range vals {
				nz[i] = v != 0
			}
		}
		// The hit list is up to eight times the flags: count, weigh, then fill.
		count := 0
		for _, v := range nz {
			if v {
				count++
			}
		}
		hits, err := kernel.MakeScratch[int](count)
		if err != nil {
			return nil, err
		}
		hits = hits[:0]
		for i, v := range nz {
			if v {
				hits = append(hits, i)
			}
		}
		r := len(x.Shape)
		out := alloc(ctx, ir.Int64, []int64{int64(r), int64(len(hits))})
		d := out.Data.([]int64)
		st := stridesOf(x.Shape)
		for j, p := range hits {
			for k := 0; k < r; k++ {
				d[k*len(hits)+j] = int64(p / st[k])
				p %= st[k]
			}
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}
