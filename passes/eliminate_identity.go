package passes

import (
	"math"
	"slices"

	"github.com/whittle-ml/whittle/ir"
)

func init() {
	Register(Info{
		Name: "eliminate_identity",
		Doc: "remove nodes that pass their first input through unchanged: Identity, Dropout in inference " +
			"(mask unused), Cast to the same type, Reshape/Expand to the same static shape, Transpose with " +
			"the identity permutation, Pad with all-zero pads, Slice covering everything",
		New:        noParams("eliminate_identity", eliminateIdentity),
		FixedPoint: true,
	})
}

// eliminateIdentity forwards each no-op node's input to its readers. A no-op whose output
// is a graph output goes only when its input can take the output's name (it is a node
// output of the same graph that is not itself a graph output); otherwise it stays, since
// the model's output names are its interface.
func eliminateIdentity(ctx *Context, m *ir.Model) (bool, error) {
	ctx.ensureTypes(m)
	r := newRewriter(ctx, m)
	opset := opsetOf(m)
	for _, g := range workGraphs(m) {
		for _, n := range g.Nodes() {
			if !isNoOp(n, opset) {
				continue
			}
			in, out := n.Input(0), n.Output(0)
			if !r.replaceValue(out, in) {
				continue
			}
			if err := r.removeNode(n); err != nil {
				return r.changed, err
			}
		}
	}
	return r.changed, nil
}

// isNoOp recognises a node whose output 0 equals its input 0 (same type, shape and
// elements) and whose other outputs are unused.
func isNoOp(n *ir.Node, opset int64) bool {
	if !ir.IsDefaultDomain(n.Domain) || n.Input(0) == nil || n.Output(0) == nil || hasSubgraphs(n) {
		return false
	}
	for _, v := range n.Outputs()[1:] {
		if v != nil && (len(v.Uses()) > 0 || v.IsGraphOutput()) {
			return false
		}
	}
	in := n.Input(0)
	switch n.OpType {
	case "Identity":
		// An Identity of a sequence or optional is a no-op too.
		return true
	case "Dropout":
		return dropoutIsIdentity(n, opset)
	case "Cast":
		to := n.AttrInt("to", -1)
		return to >= 0 && elemOf(in) != ir.Undefined && int64(elemOf(in)) == to
	case "Reshape":
		return reshapeIsIdentity(n)
	case "Expand":
		return expandIsIdentity(n)
	case "Transpose":
		return transposeIsIdentity(n)
	case "Pad":
		return padIsIdentity(n)
	case "Slice":
		return sliceIsIdentity(n)
	}
	return false
}

// dropoutIsIdentity: in inference Dropout copies its input. From opset 12 training is
// chosen by the training_mode input, which must then be absent or a constant false; before
// opset 7, the is_test attribute selected inference, but every runtime (and whittle's) runs
// Dropout as inference anyway.
func dropoutIsIdentity(n *ir.Node, opset int64) bool {
	if opset >= 12 {
		if tm := n.Input(2); tm != nil {
			xs, ok := constInts(tm)
			if !ok || len(xs) != 1 || xs[0] != 0 {
				return false
			}
		}
	}
	return true
}

// reshapeTarget resolves a Reshape's shape input against a static input shape: 0 copies
// the input dimension (unless allowzero), -1 takes what is left.
func reshapeTarget(in, shape []int64, allowZero bool) ([]int64, bool) {
	total, err := ir.NumElements(in)
	if err != nil {
		return nil, false
	}
	out := make([]int64, len(shape))
	infer, known := -1, int64(1)
	for i, s := range shape {
		switch {
		case s == 0 && !allowZero:
			if i >= len(in) {
				return nil, false
			}
			out[i] = in[i]
		case s == -1:
			if infer >= 0 {
				return nil, false
			}
			infer = i
			continue
		case s < 0:
			return nil, false
		default:
			out[i] = s
		}
		known *= out[i]
	}
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, false
		}
		out[infer] = total / known
	}
	return out, true
}

func reshapeIsIdentity(n *ir.Node) bool {
	in, ok := staticDims(n.Input(0))
	if !ok {
		return false
	}
	var shape []int64
	if s, ok := constInts(n.Input(1)); ok {
		shape = s
	} else if s := n.AttrInts("shape", nil); s != nil && n.Input(1) == nil {
		shape = s // Reshape-1
	} else {
		return false
	}
	target, ok := reshapeTarget(in, shape, n.AttrInt("allowzero", 0) != 0)
	return ok && slices.Equal(target, in)
}

// expandIsIdentity: Expand broadcasts the input with the shape; the result is the input's
// own shape when the shape has no more dimensions and each is 1 or the input's size.
func expandIsIdentity(n *ir.Node) bool {
	in, ok := staticDims(n.Input(0))
	if !ok {
		return false
	}
	shape, ok := constInts(n.Input(1))
	if !ok || len(shape) > len(in) {
		return false
	}
	off := len(in) - len(shape)
	for i, s := range shape {
		if s != 1 && s != in[off+i] {
			return false
		}
	}
	return true
}

func transposeIsIdentity(n *ir.Node) bool {
	perm := n.AttrInts("perm", nil)
	if perm == nil {
		// The default reverses the axes: a no-op only up to rank 1.
		r := rankOf(n.Input(0))
		return r >= 0 && r <= 1
	}
	for i, p := range perm {
		if p != int64(i) {
			return false
		}
	}
	return true
}

func padIsIdentity(n *ir.Node) bool {
	var pads []int64
	switch {
	case n.Attr("pads") != nil:
		pads = n.AttrInts("pads", nil)
	case n.Attr("paddings") != nil:
		pads = n.AttrInts("paddings", nil)
	default:
		p, ok := constInts(n.Input(1))
		if !ok {
			return false
		}
		pads = p
	}
	for _, p := range pads {
		if p != 0 {
			return false
		}
	}
	return true
}

// sliceIsIdentity: every sliced axis starts at 0, ends at or past its size, steps by 1.
func sliceIsIdentity(n *ir.Node) bool {
	var starts, ends, axes, steps []int64
	if n.Attr("starts") != nil { // Slice-1
		starts, ends, axes = n.AttrInts("starts", nil), n.AttrInts("ends", nil), n.AttrInts("axes", nil)
	} else {
		var ok bool
		if starts, ok = constInts(n.Input(1)); !ok {
			return false
		}
		if ends, ok = constInts(n.Input(2)); !ok {
			return false
		}
		if v := n.Input(3); v != nil {
			if axes, ok = constInts(v); !ok {
				return false
			}
		}
		if v := n.Input(4); v != nil {
			if steps, ok = constInts(v); !ok {
				return false
			}
		}
	}
	if len(starts) != len(ends) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
		return false
	}
	in := n.Input(0)
	rank := rankOf(in)
	var dims []int64
	if in.Type != nil && in.Type.HasShape {
		for _, d := range in.Type.Dims {
			if d.IsKnown() {
				dims = append(dims, d.Value)
			} else {
				dims = append(dims, -1)
			}
		}
	} else if t := constOf(in); t != nil {
		dims = t.Dims
	}
	for i := range starts {
		axis := int64(i)
		if axes != nil {
			axis = axes[i]
		}
		if axis < 0 {
			if rank < 0 {
				return false
			}
			axis += int64(rank)
		}
		if steps != nil && steps[i] != 1 {
			return false
		}
		size := int64(-1)
		if int(axis) < len(dims) && axis >= 0 {
			size = dims[axis]
		}
		start, end := starts[i], ends[i]
		if start < 0 {
			if size < 0 || start+size > 0 {
				return false
			}
			start = 0
		}
		if start != 0 {
			return false
		}
		// PyTorch writes "to the end" as INT64_MAX (or INT32_MAX from older exporters).
		if end >= math.MaxInt32 {
			continue
		}
		if size < 0 || end < size {
			return false
		}
	}
	return true
}
