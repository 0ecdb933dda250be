package tensor

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// fixIndex maps a possibly negative index into [0, dim) or reports it out of range.
func fixIndex(i, dim int64) (int, error) {
	if i < -dim || i >= dim {
		return 0, fmt.Errorf("index %d is out of range for a dimension of size %d", i, dim)
	}
	if i < 0 {
		i += dim
	}
	return int(i), nil
}

func newGather(info *kernel.NodeInfo) (kernel.Kernel, error) {
	axis := info.Node.AttrInt("axis", 0)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, it, idx, err := indexedInputs(in)
		if err != nil {
			return nil, err
		}
		a, err := kernel.NormalizeAxis(axis, len(x.Shape))
		if err != nil {
			return nil, err
		}
		shape := append(append(append([]int64{}, x.Shape[:a]...), it.Shape...), x.Shape[a+1:]...)
		out := alloc(ctx, x.DType, shape)
		dim := x.Shape[a]
		outer, inner := kernel.ShapeSize(x.Shape[:a]), kernel.ShapeSize(x.Shape[a+1:])
		pos, err := kernel.MakeScratch[int](len(idx))
		if err != nil {
			return nil, err
		}
		for j, v := range idx {
			if pos[j], err = fixIndex(v, dim); err != nil {
				return nil, err
			}
		}
		if out.Len() == 0 {
			// The loop below would still count out outer·len(idx) empty copies, and an
			// empty x may declare any outer size.
			return []*kernel.Tensor{out}, nil
		}
		n := 0
		for o := 0; o < outer; o++ {
			base := o * int(dim) * inner
			for _, p := range pos {
				copyAt(out.Data, n, x.Data, base+p*inner, inner)
				n += inner
			}
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

// elementPositions returns, for every element of indices (of idxShape), the flat offset in
// a tensor of dataShape whose coordinates are the element's own with coordinate axis
// replaced by the index value (GatherElements, ScatterElements).
func elementPositions(dataShape, idxShape []int64, idx []int64, axis int) ([]int, error) {
	if len(idxShape) != len(dataShape) {
		return nil, fmt.Errorf("indices of rank %d for data of rank %d", len(idxShape), len(dataShape))
	}
	ds := stridesOf(dataShape)
	pos, err := kernel.MakeScratch[int](len(idx))
	if err != nil {
		return nil, err
	}
	coord := make([]int64, len(idxShape))
	for i, v := range idx {
		p, err := fixIndex(v, dataShape[axis])
		if err != nil {
			return nil, err
		}
		o := 0
		for k, c := range coord {
			if k == axis {
				o += p * ds[k]
			} else {
				if c >= dataShape[k] {
					return nil, fmt.Errorf("indices shape %v exceeds data shape %v", idxShape, dataShape)
				}
				o += int(c) * ds[k]
			}
		}
		pos[i] = o
		for k := len(coord) - 1; k >= 0; k-- {
			coord[k]++
			if coord[k] < idxShape[k] {
				break
			}
			coord[k] = 0
		}
	}
	return pos, nil
}

func newGatherElements(info *kernel.NodeInfo) (kernel.Kernel, error) {
	axis := info.Node.AttrInt("axis", 0)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, it, idx, err := indexedInputs(in)
		if err != nil {
			return nil, err
		}
		a, err := kernel.NormalizeAxis(axis, len(x.Shape))
		if err != nil {
			return nil, err
		}
		pos, err := elementPositions(x.Shape, it.Shape, idx, a)
		if err != nil {
			return nil, err
		}
		out := alloc(ctx, x.DType, it.Shape)
		take(out.Data, x.Data, pos)
		return []*kernel.Tensor{out}, nil
	}), nil
}

// ndPositions resolves GatherND/ScatterND index tuples: it returns the flat offset of each
// tuple's slice in data, the slice length, and the shape of the tuple grid.
func ndPositions(dataShape, idxShape []int64, idx []int64, batchDims int) ([]int, int, error) {
	if len(idxShape) < 1 {
		return nil, 0, fmt.Errorf("indices must have rank at least 1")
	}
	k := int(idxShape[len(idxShape)-1])
	if batchDims < 0 || batchDims+k > len(dataShape) || batchDims >= len(idxShape) {
		return nil, 0, fmt.Errorf("index tuples of length %d with batch_dims %d do not fit data of rank %d", k, batchDims, len(dataShape))
	}
	for i := 0; i < batchDims; i++ {
		if idxShape[i] != dataShape[i] {
			return nil, 0, fmt.Errorf("batch dim %d differs: indices %v, data %v", i, idxShape, dataShape)
		}
	}
	ds := stridesOf(dataShape)
	slice := kernel.ShapeSize(dataShape[batchDims+k:])
	batchSize := kernel.ShapeSize(dataShape[batchDims:]) // elements of data per batch entry
	// With tuples of length 0 the indices are empty and their shape may count any number
	// of tuples (each selecting all of data): count with overflow checks and weigh.
	pos, err := kernel.MakeScratchShaped[int](idxShape[:len(idxShape)-1])
	if err != nil {
		return nil, 0, err
	}
	perBatch := 1
	if batchDims > 0 {
		perBatch = kernel.ShapeSize(idxShape[batchDims : len(idxShape)-1])
	}
	for t := range pos {
		o := (t / perBatch) * batchSize
		if batchDims == 0 {
			o = 0
		}
		for j := 0; j < k; j++ {
			p, err := fixIndex(idx[t*k+j], dataShape[batchDims+j])
			if err != nil {
				return nil, 0, err
			}
			o += p * ds[batchDims+j]
		}
		pos[t] = o
	}
	return pos, slice, nil
}

func newGatherND(info *kernel.NodeInfo) (kernel.Kernel, error) {
	batchDims := int(info.Node.AttrInt("batch_dims", 0))
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, it, idx, err := indexedInputs(in)
		if err != nil {
			return nil, err
		}
		pos, slice, err := ndPositions(x.Shape, it.Shape, idx, batchDims)
		if err != nil {
			return nil, err
		}
		k := int(it.Shape[len(it.Shape)-1])
		shape := append(append([]int64{}, it.Shape[:len(it.Shape)-1]...), x.Shape[batchDims+k:]...)
		out := alloc(ctx, x.DType, shape)
		for t, p := range pos {
			copyAt(out.Data, t*slice, x.Data, p, slice)
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

// reduction is a Scatter* reduction attribute.
type reduction int

const (
	reduceNone reduction = iota
	reduceAdd
	reduceMul
	reduceMax
	reduceMin
)

func parseReduction(info *kernel.NodeInfo) (reduction, error) {
	switch r := info.Node.AttrString("reduction", "none"); r {
	case "none":
		return reduceNone, nil
	case "add":
		return reduceAdd, nil
	case "mul":
		return reduceMul, nil
	case "max":
		return reduceMax, nil
	case "min":
		return reduceMin, nil
	default:
		return 0, fmt.Errorf("%s: reduction %q is not supported", describe(info), r)
	}
}

// combineAt folds src[sOff:sOff+n] into dst[dOff:dOff+n] with reduction red.
func combineAt(dst any, dt ir.DataType, dOff int, src any, sOff, n int, red reduction) error {
	if red == reduceNone {
		copyAt(dst, dOff, src, sOff, n)
		return nil
	}
	switch d := dst.(type) {
	case []float32:
		combineT(d[dOff:dOff+n], src.([]float32)[sOff:], red)
	case []float64:
		combineT(d[dOff:dOff+n], src.([]float64)[sOff:], red)
	case []int8:
		combineT(d[dOff:dOff+n], src.([]int8)[sOff:], red)
	case []int16:
		combineT(d[dOff:dOff+n], src.([]int16)[sOff:], red)
	case []int32:
		combineT(d[dOff:dOff+n], src.([]int32)[sOff:], red)
	case []int64:
		combineT(d[dOff:dOff+n], src.([]int64)[sOff:], red)
	case []uint8:
		if dt != ir.Uint8 {
			return fmt.Errorf("reduction on %s is not supported", dt)
		}
		combineT(d[dOff:dOff+n], src.([]uint8)[sOff:], red)
	case []uint32:
		combineT(d[dOff:dOff+n], src.([]uint32)[sOff:], red)
	case []uint64:
		combineT(d[dOff:dOff+n], src.([]uint64)[sOff:], red)
	case []uint16:
		s := src.([]uint16)[sOff:]
		switch dt {
		case ir.Uint16:
			combineT(d[dOff:dOff+n], s, red)
		case ir.Float16, ir.BFloat16:
			dec, enc := kernel.Float16ToFloat32, kernel.Float32ToFloat16
			if dt == ir.BFloat16 {
				dec, enc = kernel.BFloat16ToFloat32, kernel.Float32ToBFloat16
			}
			a, b := make([]float32, n), make([]float32, n)
			for i := range a {
				a[i], b[i] = dec(d[dOff+i]), dec(s[i])
			}
			combineT(a, b, red)
			for i, v := range a {
				d[dOff+i] = enc(v)
			}
		}
	case []bool:
		s := src.([]bool)[sOff:]
		for i := range n {
			switch red {
			case reduceAdd, reduceMax:
				d[dOff+i] = d[dOff+i] || s[i]
			default:
				d[dOff+i] = d[dOff+i] && s[i]
			}
		}
	default:
		return fmt.Errorf("reduction on %s is not supported", dt)
	}
	return nil
}

func combineT[T plainNum](d, s []T, red reduction) {
	for i := range d {
		switch red {
		case reduceAdd:
			d[i] += s[i]
		case reduceMul:
			d[i] *= s[i]
		case reduceMax:
			d[i] = max(d[i], s[i])
		case reduceMin:
			d[i] = min(d[i], s[i])
		}
	}
}

func newScatterND(info *kernel.NodeInfo) (kernel.Kernel, error) {
	red, err := parseReduction(info)
	if err != nil {
		return nil, err
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, it, up, idx, err := scatterInputs(in)
		if err != nil {
			return nil, err
		}
		pos, slice, err := ndPositions(x.Shape, it.Shape, idx, 0)
		if err != nil {
			return nil, err
		}
		if up.Len() != len(pos)*slice || up.DType != x.DType {
			return nil, fmt.Errorf("updates %s do not match %d slices of %d elements of %s", up, len(pos), slice, x.DType)
		}
		return kernel.Single(scatterCopy(ctx, x, up, pos, slice, red))
	}), nil
}

func newScatterElements(info *kernel.NodeInfo) (kernel.Kernel, error) {
	red, err := parseReduction(info)
	if err != nil {
		return nil, err
	}
	axis := info.Node.AttrInt("axis", 0)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, it, up, idx, err := scatterInputs(in)
		if err != nil {
			return nil, err
		}
		a, err := kernel.NormalizeAxis(axis, len(x.Shape))
		if err != nil {
			return nil, err
		}
		if up.Len() != len(idx) || up.DType != x.DType {
			return nil, fmt.Errorf("updates %s do not match indices %v", up, it.Shape)
		}
		pos, err := elementPositions(x.Shape, it.Shape, idx, a)
		if err != nil {
			return nil, err
		}
		return kernel.Single(scatterCopy(ctx, x, up, pos, 1, red))
	}), nil
}

// indexedInputs reads the data and indices inputs of the Gather and Scatter ops, with the
// indices widened to int64.
func indexedInputs(in []*kernel.Tensor) (x, indices *kernel.Tensor, idx []int64, err error) {
	if x, err = need(in, 0, "data"); err != nil {
		return nil, nil, nil, err
	}
	if indices, err = need(in, 1, "indices"); err != nil {
		return nil, nil, nil, err
	}
	if idx, err = kernel.Int64sOf(indices); err != nil {
		return nil, nil, nil, fmt.Errorf("input indices: %w", err)
	}
	return x, indices, idx, nil
}

// scatterInputs reads the inputs of ScatterND and ScatterElements: indexedInputs and the
// updates.
func scatterInputs(in []*kernel.Tensor) (x, indices, updates *kernel.Tensor, idx []int64, err error) {
	if x, indices, idx, err = indexedInputs(in); err != nil {
		return nil, nil, nil, nil, err
	}
	if updates, err = need(in, 2, "updates"); err != nil {
		return nil, nil, nil, nil, err
	}
	return x, indices, updates, idx, nil
}

// scatterCopy returns a copy of x in which each slice of updates (slice elements, the
// i-th starting at i*slice) is combined by red into the elements from pos[i] on.
func scatterCopy(ctx *kernel.Context, x, updates *kernel.Tensor, pos []int, slice int, red reduction) (*kernel.Tensor, error) {
	out := alloc(ctx, x.DType, x.Shape)
	copyAt(out.Data, 0, x.Data, 0, x.Len())
	for i, p := range pos {
		if err := combineAt(out.Data, x.DType, p, updates.Data, i*slice, slice, red); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func newCompress(info *kernel.NodeInfo) (kernel.Kernel, error) {
	axisAttr := info.Node.Attr("axis")
	axis := info.Node.AttrInt("axis", 0)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "input")
		if err != nil {
			return nil, err
		}
		ct, err := need(in, 1, "condition")
		if err != nil {
			return nil, err
		}
		cond, ok := ct.Data.([]bool)
		if !ok {
			return nil, fmt.Errorf("condition must be bool, is %s", ct.DType)
		}
		shape := x.Shape
		a := 0
		if axisAttr == nil {
			shape = []int64{int64(x.Len())}
		} else if a, err = kernel.NormalizeAxis(axis, len(x.Shape)); err != nil {
			return nil, err
		}
		dim := int(shape[a])
		if len(cond) > dim {
			return nil, fmt.Errorf("condition has %d entries for an axis of size %d", len(cond), dim)
		}
		var keep []int
		for i, c := range cond {
			if c {
				keep = append(keep, i)
			}
		}
		oshape := append([]int64{}, shape...)
		oshape[a] = int64(len(keep))
		out := alloc(ctx, x.DType, oshape)
		outer, inner := kernel.ShapeSize(shape[:a]), kernel.ShapeSize(shape[a+1:])
		n := 0
		// outer is unbounded by data when nothing is kept or inner is 0
		for o := 0; o < outer && inner > 0 && len(keep) > 0; o++ {
			for _, k := range keep {
				copyAt(out.Data, n, x.Data, (o*dim+k)*inner, inner)
				n += inner
			}
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}
