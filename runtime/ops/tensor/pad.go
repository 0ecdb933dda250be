package tensor

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// gatherAxes fills dst (of outShape) with src (of srcShape) elements chosen independently
// per axis: the output element at coordinates (j0, j1, ...) reads source coordinates
// (maps[0][j0], maps[1][j1], ...). A negative map entry reads fill[0] instead (fill has
// src's element type). Tile, Pad and nearest Resize are all this. The index table it builds
// is one int per output element, weighed against the memory budget (dst may hold bytes).
func gatherAxes(dst, src any, srcShape []int64, maps [][]int, fill any) error {
	r := len(maps)
	n := 1
	for _, m := range maps {
		n *= len(m)
	}
	if n == 0 {
		return nil
	}
	strides := stridesOf(srcShape)
	idx, err := kernel.MakeScratch[int](n)
	if err != nil {
		return err
	}
	hasFill := false
	// offsets[k] is the source offset contributed by axes < k (or -1 when one of them reads
	// the fill value); build row by row over the last axis.
	coord := make([]int, r)
	pos := 0
	for {
		base := 0
		for k := 0; k < r-1; k++ {
			m := maps[k][coord[k]]
			if m < 0 || base < 0 {
				base = -1
				continue
			}
			base += m * strides[k]
		}
		if r == 0 {
			idx[0] = 0
			break
		}
		last, ls := maps[r-1], strides[r-1]
		for _, m := range last {
			if base < 0 || m < 0 {
				idx[pos] = -1
				hasFill = true
			} else {
				idx[pos] = base + m*ls
			}
			pos++
		}
		k := r - 2
		for ; k >= 0; k-- {
			coord[k]++
			if coord[k] < len(maps[k]) {
				break
			}
			coord[k] = 0
		}
		if k < 0 {
			break
		}
	}
	if !hasFill {
		take(dst, src, idx)
		return nil
	}
	// Append the fill value to a copy of the source so that one take does everything.
	srcLen := kernel.ShapeSize(srcShape)
	ext, err := extend(src, srcLen, fill)
	if err != nil {
		return err
	}
	for i, v := range idx {
		if v < 0 {
			idx[i] = srcLen
		}
	}
	take(dst, ext, idx)
	return nil
}

// extend returns a copy of src[:n] with fill[0] appended, weighed against the memory
// budget (it is as large as the source).
func extend(src any, n int, fill any) (any, error) {
	switch s := src.(type) {
	case []float32:
		return extendTo(s, n, fill.([]float32)[0])
	case []float64:
		return extendTo(s, n, fill.([]float64)[0])
	case []uint16:
		return extendTo(s, n, fill.([]uint16)[0])
	case []int8:
		return extendTo(s, n, fill.([]int8)[0])
	case []int16:
		return extendTo(s, n, fill.([]int16)[0])
	case []int32:
		return extendTo(s, n, fill.([]int32)[0])
	case []int64:
		return extendTo(s, n, fill.([]int64)[0])
	case []uint8:
		return extendTo(s, n, fill.([]uint8)[0])
	case []uint32:
		return extendTo(s, n, fill.([]uint32)[0])
	case []uint64:
		return extendTo(s, n, fill.([]uint64)[0])
	case []bool:
		return extendTo(s, n, fill.([]bool)[0])
	case []string:
		return extendTo(s, n, fill.([]string)[0])
	case []complex64:
		return extendTo(s, n, fill.([]complex64)[0])
	case []complex128:
		return extendTo(s, n, fill.([]complex128)[0])
	}
	return nil, fmt.Errorf("element type %T is not supported", src)
}

func extendTo[T any](s []T, n int, fill T) (any, error) {
	out, err := kernel.MakeScratch[T](n + 1)
	if err != nil {
		return nil, err
	}
	copy(out, s[:n])
	out[n] = fill
	return out, nil
}

type padMode int

const (
	padConstant padMode = iota
	padReflect
	padEdge
	padWrap
)

func newPad(info *kernel.NodeInfo) (kernel.Kernel, error) {
	var mode padMode
	switch m := info.Node.AttrString("mode", "constant"); m {
	case "constant":
		mode = padConstant
	case "reflect":
		mode = padReflect
	case "edge":
		mode = padEdge
	case "wrap":
		mode = padWrap
	default:
		return nil, fmt.Errorf("%s: pad mode %q is not supported", describe(info), m)
	}
	fromAttrs := info.Opset < 11
	attrPads := info.Node.AttrInts("pads", nil)
	if fromAttrs && attrPads == nil {
		attrPads = info.Node.AttrInts("paddings", nil) // Pad-1
	}
	attrValue := float64(info.Node.AttrFloat("value", 0))
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "data")
		if err != nil {
			return nil, err
		}
		r := len(x.Shape)
		pads := attrPads
		fill, err := kernel.MakeSlice(x.DType, 1)
		if err != nil {
			return nil, err
		}
		var axes []int
		if fromAttrs {
			if x.DType != ir.String {
				if err := storeFloat64s(fill, x.DType, []float64{attrValue}); err != nil {
					return nil, err
				}
			}
		} else {
			pt, err := need(in, 1, "pads")
			if err != nil {
				return nil, err
			}
			if pads, err = kernel.Int64sOf(pt); err != nil {
				return nil, fmt.Errorf("input pads: %w", err)
			}
			if cv := kernel.Input(in, 2); cv != nil && cv.Len() > 0 {
				if cv.DType != x.DType {
					return nil, fmt.Errorf("constant_value is %s, data %s", cv.DType, x.DType)
				}
				copyAt(fill, 0, cv.Data, 0, 1)
			}
			if at := kernel.Input(in, 3); at != nil {
				a, err := kernel.Int64sOf(at)
				if err != nil {
					return nil, fmt.Errorf("input axes: %w", err)
				}
				if axes, err = kernel.NormalizeAxes(a, r); err != nil {
					return nil, err
				}
			}
		}
		if axes == nil {
			axes = make([]int, r)
			for i := range axes {
				axes[i] = i
			}
		}
		if len(pads) != 2*len(axes) {
			return nil, fmt.Errorf("pads %v has %d entries, want %d", pads, len(pads), 2*len(axes))
		}
		begin, end := make([]int64, r), make([]int64, r)
		for i, a := range axes {
			begin[a], end[a] = pads[i], pads[i+len(axes)]
		}
		shape := make([]int64, r)
		maps := make([][]int, r)
		for k := range shape {
			dim := x.Shape[k]
			shape[k] = dim + begin[k] + end[k]
			if shape[k] < 0 {
				return nil, fmt.Errorf("pads %v crop axis %d of size %d below zero", pads, k, dim)
			}
			if shape[k] > maxElements {
				return nil, fmt.Errorf("padded axis %d has size %d", k, shape[k])
			}
			m, err := kernel.MakeScratch[int](int(shape[k]))
			if err != nil {
				return nil, err
			}
			for j := range m {
				s := int64(j) - begin[k]
				if s >= 0 && s < dim {
					m[j] = int(s)
					continue
				}
				if dim == 0 && mode != padConstant {
					return nil, fmt.Errorf("cannot %v-pad axis %d of size 0", mode, k)
				}
				switch mode {
				case padConstant:
					m[j] = -1
				case padEdge:
					m[j] = int(max(0, min(s, dim-1)))
				case padWrap:
					m[j] = int(((s % dim) + dim) % dim)
				case padReflect:
					if dim == 1 {
						m[j] = 0
						break
					}
					period := 2 * (dim - 1)
					i := ((s % period) + period) % period
					if i >= dim {
						i = period - i
					}
					m[j] = int(i)
				}
			}
			maps[k] = m
		}
		if _, err := checkedNumel(shape); err != nil {
			return nil, err
		}
		out := alloc(ctx, x.DType, shape)
		if err := gatherAxes(out.Data, x.Data, x.Shape, maps, fill); err != nil {
			return nil, err
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

func newTile(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "input")
		if err != nil {
			return nil, err
		}
		rt, err := need(in, 1, "repeats")
		if err != nil {
			return nil, err
		}
		reps, err := kernel.Int64sOf(rt)
		if err != nil {
			return nil, fmt.Errorf("input repeats: %w", err)
		}
		if len(reps) != len(x.Shape) {
			return nil, fmt.Errorf("repeats %v does not match rank %d", reps, len(x.Shape))
		}
		shape := make([]int64, len(reps))
		maps := make([][]int, len(reps))
		for k, r := range reps {
			if r < 0 {
				return nil, fmt.Errorf("repeats %v has a negative entry", reps)
			}
			if x.Shape[k] > 0 && r > maxElements/x.Shape[k] {
				return nil, fmt.Errorf("tiling axis %d of size %d %d times is too large", k, x.Shape[k], r)
			}
			shape[k] = x.Shape[k] * r
			m, err := kernel.MakeScratch[int](int(shape[k]))
			if err != nil {
				return nil, err
			}
			for j := range m {
				m[j] = j % int(x.Shape[k])
			}
			maps[k] = m
		}
		if _, err := checkedNumel(shape); err != nil {
			return nil, err
		}
		out := alloc(ctx, x.DType, shape)
		if err := gatherAxes(out.Data, x.Data, x.Shape, maps, nil); err != nil {
			return nil, err
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

func (m padMode) String() string {
	return [...]string{"constant", "reflect", "edge", "wrap"}[m]
}

// newCenterCropPad crops or zero-pads each chosen axis around its center to the requested
// size (the extra element of an odd difference goes to the end, as the function body's
// integer division gives).
func newCenterCropPad(info *kernel.NodeInfo) (kernel.Kernel, error) {
	axesAttr := info.Node.AttrInts("axes", nil)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "input_data")
		if err != nil {
			return nil, err
		}
		st, err := need(in, 1, "shape")
		if err != nil {
			return nil, err
		}
		want, err := kernel.Int64sOf(st)
		if err != nil {
			return nil, fmt.Errorf("input shape: %w", err)
		}
		r := len(x.Shape)
		axes := make([]int, r)
		for i := range axes {
			axes[i] = i
		}
		if axesAttr != nil {
			if axes, err = kernel.NormalizeAxes(axesAttr, r); err != nil {
				return nil, err
			}
		}
		if len(want) != len(axes) {
			return nil, fmt.Errorf("shape has %d entries for %d axes", len(want), len(axes))
		}
		shape := append([]int64{}, x.Shape...)
		for i, a := range axes {
			if want[i] < 0 || want[i] > maxElements {
				return nil, fmt.Errorf("target size %d is out of range", want[i])
			}
			shape[a] = want[i]
		}
		if _, err := checkedNumel(shape); err != nil {
			return nil, err
		}
		maps := make([][]int, r)
		for k := range maps {
			dim, size := x.Shape[k], shape[k]
			m, err := kernel.MakeScratch[int](int(size))
			if err != nil {
				return nil, err
			}
			var shift int64 // source index = j + shift
			if dim >= size {
				shift = (dim - size) / 2
			} else {
				shift = -((size - dim) / 2)
			}
			for j := range m {
				s := int64(j) + shift
				if s < 0 || s >= dim {
					m[j] = -1
				} else {
					m[j] = int(s)
				}
			}
			maps[k] = m
		}
		fill, err := kernel.MakeSlice(x.DType, 1)
		if err != nil {
			return nil, err
		}
		out := alloc(ctx, x.DType, shape)
		if err := gatherAxes(out.Data, x.Data, x.Shape, maps, fill); err != nil {
			return nil, err
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}
