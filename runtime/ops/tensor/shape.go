package tensor

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// newIdentity returns its input unchanged (tensors, sequences and optionals alike).
func newIdentity(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		if len(in) == 0 || in[0] == nil {
			return nil, fmt.Errorf("input 0 is missing")
		}
		return []*kernel.Tensor{in[0]}, nil
	}), nil
}

// reshapeTarget resolves Reshape's requested shape: 0 copies the input dim (unless
// allowzero), -1 is inferred.
func reshapeTarget(inShape, req []int64, allowZero bool) ([]int64, error) {
	out := make([]int64, len(req))
	infer := -1
	known := int64(1)
	for i, d := range req {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", req)
			}
			infer = i
			continue
		case d == 0 && !allowZero:
			if i >= len(inShape) {
				return nil, fmt.Errorf("shape %v copies dim %d of an input of rank %d", req, i, len(inShape))
			}
			d = inShape[i]
		case d < 0:
			return nil, fmt.Errorf("shape %v has negative dim %d", req, d)
		}
		out[i] = d
		if d != 0 && known > math.MaxInt64/d {
			return nil, fmt.Errorf("shape %v has more elements than int64 can count", req)
		}
		known *= d
	}
	total := int64(kernel.ShapeSize(inShape))
	if infer >= 0 {
		if allowZero && known == 0 {
			return nil, fmt.Errorf("shape %v combines -1 with a zero dim under allowzero", req)
		}
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", inShape, total, req)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", inShape, total, req)
	}
	return out, nil
}

func newReshape(info *kernel.NodeInfo) (kernel.Kernel, error) {
	allowZero := info.Node.AttrInt("allowzero", 0) != 0
	if info.Opset < 5 {
		req := info.Node.AttrInts("shape", nil)
		return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
			x, err := need(in, 0, "data")
			if err != nil {
				return nil, err
			}
			shape, err := reshapeTarget(x.Shape, req, false)
			if err != nil {
				return nil, err
			}
			return []*kernel.Tensor{reshaped(x, shape)}, nil
		}), nil
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, req, err := dataAndShape(in, "data")
		if err != nil {
			return nil, err
		}
		shape, err := reshapeTarget(x.Shape, req, allowZero)
		if err != nil {
			return nil, err
		}
		return []*kernel.Tensor{reshaped(x, shape)}, nil
	}), nil
}

func newFlatten(info *kernel.NodeInfo) (kernel.Kernel, error) {
	axis := info.Node.AttrInt("axis", 1)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "input")
		if err != nil {
			return nil, err
		}
		r := len(x.Shape)
		a := axis
		if a < 0 {
			a += int64(r)
		}
		if a < 0 || a > int64(r) {
			return nil, fmt.Errorf("axis %d is out of range for rank %d", axis, r)
		}
		outer := kernel.ShapeSize(x.Shape[:a])
		return []*kernel.Tensor{reshaped(x, []int64{int64(outer), int64(kernel.ShapeSize(x.Shape[a:]))})}, nil
	}), nil
}

// axesSource reads axes from an attribute (older opsets) or an optional input.
type axesSource struct {
	attr      []int64
	fromInput int // input index holding axes, or -1
}

func (a axesSource) get(in []*kernel.Tensor) ([]int64, bool, error) {
	if a.fromInput < 0 {
		return a.attr, a.attr != nil, nil
	}
	t := kernel.Input(in, a.fromInput)
	if t == nil {
		return nil, false, nil
	}
	v, err := kernel.Int64sOf(t)
	if err != nil {
		return nil, false, fmt.Errorf("input axes: %w", err)
	}
	return v, true, nil
}

func axesFor(info *kernel.NodeInfo, inputSince int64, idx int) axesSource {
	if info.Opset >= inputSince {
		return axesSource{fromInput: idx}
	}
	return axesSource{attr: info.Node.AttrInts("axes", nil), fromInput: -1}
}

func newSqueeze(info *kernel.NodeInfo) (kernel.Kernel, error) {
	src := axesFor(info, 13, 1)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "data")
		if err != nil {
			return nil, err
		}
		axes, given, err := src.get(in)
		if err != nil {
			return nil, err
		}
		drop := make([]bool, len(x.Shape))
		if given {
			norm, err := kernel.NormalizeAxes(axes, len(x.Shape))
			if err != nil {
				return nil, err
			}
			for _, a := range norm {
				if x.Shape[a] != 1 {
					return nil, fmt.Errorf("cannot squeeze axis %d of shape %v: size is not 1", a, x.Shape)
				}
				drop[a] = true
			}
		} else {
			for i, d := range x.Shape {
				drop[i] = d == 1
			}
		}
		shape := make([]int64, 0, len(x.Shape))
		for i, d := range x.Shape {
			if !drop[i] {
				shape = append(shape, d)
			}
		}
		return []*kernel.Tensor{reshaped(x, shape)}, nil
	}), nil
}

func newUnsqueeze(info *kernel.NodeInfo) (kernel.Kernel, error) {
	src := axesFor(info, 13, 1)
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "data")
		if err != nil {
			return nil, err
		}
		axes, given, err := src.get(in)
		if err != nil {
			return nil, err
		}
		if !given {
			return nil, fmt.Errorf("axes are required")
		}
		r := len(x.Shape) + len(axes)
		norm, err := kernel.NormalizeAxes(axes, r)
		if err != nil {
			return nil, err
		}
		ins := make([]bool, r)
		for _, a := range norm {
			ins[a] = true
		}
		shape := make([]int64, r)
		j := 0
		for i := range shape {
			if ins[i] {
				shape[i] = 1
			} else {
				shape[i] = x.Shape[j]
				j++
			}
		}
		return []*kernel.Tensor{reshaped(x, shape)}, nil
	}), nil
}

func newShape(info *kernel.NodeInfo) (kernel.Kernel, error) {
	start := info.Node.AttrInt("start", 0)
	end, hasEnd := int64(0), info.Node.Attr("end") != nil
	if hasEnd {
		end = info.Node.AttrInt("end", 0)
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "data")
		if err != nil {
			return nil, err
		}
		r := int64(len(x.Shape))
		s, e := clampIndex(start, r), r
		if hasEnd {
			e = clampIndex(end, r)
		}
		if e < s {
			e = s
		}
		out := alloc(ctx, ir.Int64, []int64{e - s})
		copy(out.Data.([]int64), x.Shape[s:e])
		return []*kernel.Tensor{out}, nil
	}), nil
}

// clampIndex maps a possibly negative index into [0, n].
func clampIndex(i, n int64) int64 {
	if i < 0 {
		i += n
	}
	return max(0, min(i, n))
}

func newSize(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "data")
		if err != nil {
			return nil, err
		}
		out := alloc(ctx, ir.Int64, nil)
		out.Data.([]int64)[0] = int64(kernel.ShapeSize(x.Shape))
		return []*kernel.Tensor{out}, nil
	}), nil
}

func newExpand(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, req, err := dataAndShape(in, "input")
		if err != nil {
			return nil, err
		}
		shape, err := kernel.BroadcastShapes(x.Shape, req)
		if err != nil {
			return nil, err
		}
		if _, err := checkedNumel(shape); err != nil {
			return nil, err
		}
		out := alloc(ctx, x.DType, shape)
		broadcastInto(out.Data, shape, x.Data, x.Shape)
		return []*kernel.Tensor{out}, nil
	}), nil
}

// broadcastInto copies src into dst, repeating it along broadcast dimensions.
func broadcastInto(dst any, dstShape []int64, src any, srcShape []int64) {
	switch d := view(dst).(type) {
	case []uint8:
		kernel.BroadcastTo(d, dstShape, view(src).([]uint8), srcShape)
	case []uint16:
		kernel.BroadcastTo(d, dstShape, view(src).([]uint16), srcShape)
	case []uint32:
		kernel.BroadcastTo(d, dstShape, view(src).([]uint32), srcShape)
	case []uint64:
		kernel.BroadcastTo(d, dstShape, view(src).([]uint64), srcShape)
	case [][2]uint64:
		kernel.BroadcastTo(d, dstShape, view(src).([][2]uint64), srcShape)
	case []string:
		kernel.BroadcastTo(d, dstShape, src.([]string), srcShape)
	}
}

// dataAndShape reads input 0 (named name) and the int64 shape of input 1, the operands of
// Reshape and Expand.
func dataAndShape(in []*kernel.Tensor, name string) (*kernel.Tensor, []int64, error) {
	x, err := need(in, 0, name)
	if err != nil {
		return nil, nil, err
	}
	s, err := need(in, 1, "shape")
	if err != nil {
		return nil, nil, err
	}
	shape, err := kernel.Int64sOf(s)
	if err != nil {
		return nil, nil, fmt.Errorf("input shape: %w", err)
	}
	return x, shape, nil
}
