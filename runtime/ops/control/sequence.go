package control

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Sequence values are kernel.Tensors of Kind SequenceValue holding their elements; the
// kernels share element tensors between sequences rather than copying them (runtime values
// are never modified in place).

func init() {
	kernel.Register(
		kernel.KernelDef{Op: "SequenceEmpty", SinceVersion: 11, New: newSequenceEmpty},
		kernel.KernelDef{Op: "SequenceConstruct", SinceVersion: 11, New: fixed(sequenceConstruct)},
		kernel.KernelDef{Op: "SequenceAt", SinceVersion: 11, New: fixed(sequenceAt)},
		kernel.KernelDef{Op: "SequenceInsert", SinceVersion: 11, New: fixed(sequenceInsert)},
		kernel.KernelDef{Op: "SequenceErase", SinceVersion: 11, New: fixed(sequenceErase)},
		kernel.KernelDef{Op: "SequenceLength", SinceVersion: 11, New: fixed(sequenceLength)},
		kernel.KernelDef{Op: "SplitToSequence", SinceVersion: 11, New: newSplitToSequence},
		kernel.KernelDef{Op: "ConcatFromSequence", SinceVersion: 11, New: newConcatFromSequence},
		kernel.KernelDef{Op: "Optional", SinceVersion: 15, New: fixed(optional)},
		kernel.KernelDef{Op: "OptionalHasElement", SinceVersion: 15, New: fixed(optionalHasElement)},
		kernel.KernelDef{Op: "OptionalGetElement", SinceVersion: 15, New: fixed(optionalGetElement)},
	)
}

func fixed(f kernel.KernelFunc) kernel.Factory {
	return func(*kernel.NodeInfo) (kernel.Kernel, error) { return f, nil }
}

func seqInput(in []*kernel.Tensor) (*kernel.Tensor, error) {
	if len(in) == 0 || in[0] == nil || in[0].Kind != kernel.SequenceValue {
		return nil, fmt.Errorf("input 0 must be a sequence")
	}
	return in[0], nil
}

func newSeq(dt ir.DataType, elems []*kernel.Tensor) *kernel.Tensor {
	return &kernel.Tensor{Kind: kernel.SequenceValue, SeqType: dt, Seq: elems}
}

func newSequenceEmpty(info *kernel.NodeInfo) (kernel.Kernel, error) {
	dt := ir.DataType(info.Node.AttrInt("dtype", int64(ir.Float)))
	return kernel.KernelFunc(func(*kernel.Context, []*kernel.Tensor) ([]*kernel.Tensor, error) {
		return []*kernel.Tensor{newSeq(dt, []*kernel.Tensor{})}, nil
	}), nil
}

func sequenceConstruct(_ *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("needs at least one input")
	}
	elems := make([]*kernel.Tensor, len(in))
	for i, t := range in {
		if t == nil || t.Kind != kernel.TensorValue {
			return nil, fmt.Errorf("input %d must be a tensor", i)
		}
		if t.DType != in[0].DType {
			return nil, fmt.Errorf("input %d is %s, input 0 is %s", i, t.DType, in[0].DType)
		}
		elems[i] = t
	}
	return []*kernel.Tensor{newSeq(in[0].DType, elems)}, nil
}

// position reads an optional position input against a sequence of length n; end says
// whether n itself is valid (SequenceInsert may append).
func position(in []*kernel.Tensor, i, n int, def int, end bool) (int, error) {
	if i >= len(in) || in[i] == nil {
		return def, nil
	}
	p, err := scalarInt64(in[i])
	if err != nil {
		return 0, fmt.Errorf("position: %w", err)
	}
	if p < 0 {
		p += int64(n)
	}
	limit := int64(n)
	if end {
		limit++
	}
	if p < 0 || p >= limit {
		return 0, fmt.Errorf("position %d is out of range for a sequence of %d", p, n)
	}
	return int(p), nil
}

func sequenceAt(_ *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	s, err := seqInput(in)
	if err != nil {
		return nil, err
	}
	if len(in) < 2 || in[1] == nil {
		return nil, fmt.Errorf("position is missing")
	}
	p, err := position(in, 1, len(s.Seq), 0, false)
	if err != nil {
		return nil, err
	}
	return []*kernel.Tensor{s.Seq[p]}, nil
}

func sequenceInsert(_ *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	s, err := seqInput(in)
	if err != nil {
		return nil, err
	}
	if len(in) < 2 || in[1] == nil || in[1].Kind != kernel.TensorValue {
		return nil, fmt.Errorf("input 1 must be a tensor")
	}
	t := in[1]
	if len(s.Seq) > 0 && t.DType != s.SeqType {
		return nil, fmt.Errorf("inserting %s into a sequence of %s", t.DType, s.SeqType)
	}
	p, err := position(in, 2, len(s.Seq), len(s.Seq), true)
	if err != nil {
		return nil, err
	}
	// Each insert copies the sequence (values are never modified in place): in a Loop
	// that is quadratic, and only the budget sees the heap it takes.
	elems, err := kernel.MakeScratch[*kernel.Tensor](len(s.Seq) + 1)
	if err != nil {
		return nil, err
	}
	elems = elems[:0]
	elems = append(elems, s.Seq[:p]...)
	elems = append(elems, t)
	elems = append(elems, s.Seq[p:]...)
	return []*kernel.Tensor{newSeq(t.DType, elems)}, nil
}

func sequenceErase(_ *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	s, err := seqInput(in)
	if err != nil {
		return nil, err
	}
	if len(s.Seq) == 0 {
		return nil, fmt.Errorf("cannot erase from an empty sequence")
	}
	p, err := position(in, 1, len(s.Seq), len(s.Seq)-1, false)
	if err != nil {
		return nil, err
	}
	elems := make([]*kernel.Tensor, 0, len(s.Seq)-1)
	elems = append(elems, s.Seq[:p]...)
	elems = append(elems, s.Seq[p+1:]...)
	return []*kernel.Tensor{newSeq(s.SeqType, elems)}, nil
}

func sequenceLength(_ *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	s, err := seqInput(in)
	if err != nil {
		return nil, err
	}
	return []*kernel.Tensor{int64Scalar(int64(len(s.Seq)))}, nil
}

func newSplitToSequence(info *kernel.NodeInfo) (kernel.Kernel, error) {
	axisAttr := info.Node.AttrInt("axis", 0)
	keepdims := info.Node.AttrInt("keepdims", 1) != 0
	return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		if len(in) == 0 || in[0] == nil || in[0].Kind != kernel.TensorValue {
			return nil, fmt.Errorf("input 0 must be a tensor")
		}
		x := in[0]
		axis, err := kernel.NormalizeAxis(axisAttr, len(x.Shape))
		if err != nil {
			return nil, err
		}
		dim := x.Shape[axis]
		var sizes []int64
		squeeze := false
		if len(in) < 2 || in[1] == nil {
			// No split: one element per index along axis, the axis dropped unless keepdims.
			if sizes, err = partSizes(dim, 1, len(x.Shape)); err != nil {
				return nil, err
			}
			squeeze = !keepdims
		} else {
			split := in[1]
			var vals []int64
			switch d := split.Data.(type) {
			case []int64:
				vals = d
			case []int32:
				for _, v := range d {
					vals = append(vals, int64(v))
				}
			default:
				return nil, fmt.Errorf("split must be int32 or int64, got %s", split.DType)
			}
			if len(split.Shape) == 0 {
				if len(vals) != 1 || vals[0] <= 0 {
					return nil, fmt.Errorf("split must be positive, got %v", vals)
				}
				if sizes, err = partSizes(dim, vals[0], len(x.Shape)); err != nil {
					return nil, err
				}
			} else {
				if len(split.Shape) != 1 {
					return nil, fmt.Errorf("split must be a scalar or 1-D, got shape %v", split.Shape)
				}
				sizes = vals
				sum := int64(0)
				for _, v := range vals {
					// Negative parts could cancel out to the right total and slice backwards.
					if v < 0 || v > dim {
						return nil, fmt.Errorf("split %v has a part outside [0, %d]", vals, dim)
					}
					sum += v
				}
				if sum != dim {
					return nil, fmt.Errorf("split %v does not add up to dimension %d", vals, dim)
				}
				if err := reserveParts(int64(len(vals)), len(x.Shape)); err != nil {
					return nil, err
				}
			}
		}
		outer, inner := kernel.ShapeSize(x.Shape[:axis]), kernel.ShapeSize(x.Shape[axis+1:])
		elems := make([]*kernel.Tensor, 0, len(sizes))
		start := int64(0)
		for _, sz := range sizes {
			shape := append([]int64{}, x.Shape...)
			shape[axis] = sz
			part := ctx.Alloc(x.DType, shape...)
			row := int(sz) * inner
			for o := 0; o < outer && row > 0; o++ { // outer is unbounded by data when row is 0
				if err := copyElems(part.Data, o*row, x.Data, (o*int(dim)+int(start))*inner, row); err != nil {
					return nil, err
				}
			}
			if squeeze {
				part.Shape = append(append([]int64{}, x.Shape[:axis]...), x.Shape[axis+1:]...)
			}
			elems = append(elems, part)
			start += sz
		}
		return []*kernel.Tensor{newSeq(x.DType, elems)}, nil
	}), nil
}

// partSizes returns the sizes of the parts of length step (the last one shorter) that
// split an axis of length dim, after weighing the parts against the memory budget: an
// empty tensor may have an axis of any length, and each part, empty or not, costs a tensor
// header and a shape of the given rank.
func partSizes(dim, step int64, rank int) ([]int64, error) {
	count := dim / step
	if dim%step != 0 {
		count++
	}
	if err := reserveParts(count, rank); err != nil {
		return nil, err
	}
	sizes, err := kernel.MakeScratch[int64](int(count))
	if err != nil {
		return nil, err
	}
	for i := range sizes {
		sizes[i] = min(dim-int64(i)*step, step)
	}
	return sizes, nil
}

// reserveParts weighs count sequence elements of the given rank against the memory budget:
// each costs a tensor header and its shape even when it holds no data.
func reserveParts(count int64, rank int) error {
	perPart := int64(unsafe.Sizeof(kernel.Tensor{})) + 8*int64(rank) + 8
	if count > math.MaxInt64/perPart {
		return fmt.Errorf("%d parts are too many", count)
	}
	return kernel.Reserve(count * perPart)
}

func newConcatFromSequence(info *kernel.NodeInfo) (kernel.Kernel, error) {
	a := info.Node.Attr("axis")
	if a == nil {
		return nil, fmt.Errorf("attribute axis is missing")
	}
	axisAttr := a.Int
	newAxis := info.Node.AttrInt("new_axis", 0) == 1
	return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		s, err := seqInput(in)
		if err != nil {
			return nil, err
		}
		if len(s.Seq) == 0 {
			return nil, fmt.Errorf("cannot concatenate an empty sequence")
		}
		rank := len(s.Seq[0].Shape)
		if newAxis {
			axis, err := kernel.NormalizeAxis(axisAttr, rank+1)
			if err != nil {
				return nil, err
			}
			out, err := stack(ctx, s.Seq, axis, s.SeqType, nil)
			return []*kernel.Tensor{out}, err
		}
		axis, err := kernel.NormalizeAxis(axisAttr, rank)
		if err != nil {
			return nil, err
		}
		out, err := concat(ctx, s.Seq, axis)
		return []*kernel.Tensor{out}, err
	}), nil
}

// Optional values: an optional holding a value is that value; an empty one is a tensor of
// Kind NoneValue.

func optional(_ *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return []*kernel.Tensor{{Kind: kernel.NoneValue}}, nil
	}
	return []*kernel.Tensor{in[0]}, nil
}

func optionalHasElement(_ *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	has := len(in) > 0 && in[0] != nil && in[0].Kind != kernel.NoneValue
	return []*kernel.Tensor{boolScalar(has)}, nil
}

func optionalGetElement(_ *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	if len(in) == 0 || in[0] == nil || in[0].Kind == kernel.NoneValue {
		return nil, fmt.Errorf("the optional is empty")
	}
	return []*kernel.Tensor{in[0]}, nil
}
