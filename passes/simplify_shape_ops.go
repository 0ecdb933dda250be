package passes

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
)

func init() {
	Register(Info{
		Name: "simplify_shape_ops",
		Doc: "replace shape arithmetic (Shape, Gather, Slice, Concat, Unsqueeze, Squeeze, Cast, " +
			"Add/Sub/Mul/Div of such) by constants where the dimensions it reads are static, leaving " +
			"symbolic dimensions alone; give Reshape, Expand and ConstantOfShape a constant shape when " +
			"shape inference knows their output shape",
		New:        noParams("simplify_shape_ops", simplifyShapeOps),
		FixedPoint: true,
	})
}

// shapeData is what is known of a small integer tensor computed from shapes: its elements,
// unknownDim where an element is a dimension that is not static. (Constants may hold -1,
// Reshape's "infer this one", which is a real value.)
type shapeData struct {
	vals   []int64
	scalar bool
	dt     ir.DataType
}

const unknownDim = math.MinInt64

func (d shapeData) complete() bool {
	for _, v := range d.vals {
		if v == unknownDim {
			return false
		}
	}
	return true
}

// maxShapeData bounds the tracked tensors: shapes are short, anything longer is data.
const maxShapeData = 64

func simplifyShapeOps(ctx *Context, m *ir.Model) (bool, error) {
	ctx.ensureTypes(m)
	r := newRewriter(ctx, m)
	for _, g := range workGraphs(m) {
		known := map[*ir.Value]shapeData{}
		lookup := func(v *ir.Value) (shapeData, bool) {
			if d, ok := known[v]; ok {
				return d, true
			}
			t := constOf(v)
			if t == nil || len(t.Dims) > 1 || (t.DataType != ir.Int64 && t.DataType != ir.Int32) {
				return shapeData{}, false
			}
			xs, err := t.Int64s()
			if err != nil || len(xs) > maxShapeData {
				return shapeData{}, false
			}
			return shapeData{vals: xs, scalar: len(t.Dims) == 0, dt: t.DataType}, true
		}
		for _, n := range g.Nodes() {
			if !ir.IsDefaultDomain(n.Domain) || len(n.Outputs()) != 1 || n.Output(0) == nil || n.OpType == "Constant" {
				continue
			}
			if constOf(n.Output(0)) != nil {
				continue
			}
			d, ok := propagateShapeData(n, lookup)
			if !ok || len(d.vals) > maxShapeData {
				if err := r.constantShapeInput(n); err != nil {
					return r.changed, err
				}
				continue
			}
			if !d.complete() || !allNodeInputsKnownOrShape(n, lookup) {
				known[n.Output(0)] = d
				continue
			}
			var t *ir.Tensor
			dims := []int64{int64(len(d.vals))}
			if d.scalar {
				dims = nil
			}
			if d.dt == ir.Int32 {
				xs := make([]int32, len(d.vals))
				for i, v := range d.vals {
					xs[i] = int32(v)
				}
				t = ir.FromInt32("", dims, xs)
			} else {
				t = ir.FromInt64("", dims, d.vals)
			}
			if err := r.replaceByConstants(n, []*ir.Tensor{t}); err != nil {
				return r.changed, err
			}
		}
	}
	return r.changed, nil
}

// allNodeInputsKnownOrShape guards against folding a node some of whose inputs are not
// tracked (a Gather whose indices are computed): propagation only succeeds when they are.
func allNodeInputsKnownOrShape(n *ir.Node, lookup func(*ir.Value) (shapeData, bool)) bool {
	if n.OpType == "Shape" || n.OpType == "Size" {
		return true
	}
	for _, v := range n.Inputs() {
		if v == nil {
			continue
		}
		if _, ok := lookup(v); !ok {
			return false
		}
	}
	return true
}

// propagateShapeData computes what is known of n's output from its inputs.
func propagateShapeData(n *ir.Node, lookup func(*ir.Value) (shapeData, bool)) (shapeData, bool) {
	in := func(i int) (shapeData, bool) {
		if n.Input(i) == nil {
			return shapeData{}, false
		}
		return lookup(n.Input(i))
	}
	switch n.OpType {
	case "Shape":
		x := n.Input(0)
		if x == nil || x.Type == nil || x.Type.Kind != ir.TensorKind || !x.Type.HasShape {
			if t := constOf(x); t != nil {
				return shapeData{vals: append([]int64(nil), t.Dims...), dt: ir.Int64}, true
			}
			return shapeData{}, false
		}
		dims := x.Type.Dims
		r := int64(len(dims))
		clamp := func(v int64) int64 {
			if v < 0 {
				v += r
			}
			return min(max(v, 0), r)
		}
		start, end := clamp(n.AttrInt("start", 0)), clamp(n.AttrInt("end", r))
		d := shapeData{dt: ir.Int64, vals: []int64{}}
		for i := start; i < end; i++ {
			if dims[i].IsKnown() {
				d.vals = append(d.vals, dims[i].Value)
			} else {
				d.vals = append(d.vals, unknownDim)
			}
		}
		return d, true
	case "Identity":
		return in(0)
	case "Cast":
		d, ok := in(0)
		to := ir.DataType(n.AttrInt("to", 0))
		if !ok || (to != ir.Int64 && to != ir.Int32) {
			return shapeData{}, false
		}
		d.dt = to
		return d, true
	case "Gather":
		d, ok := in(0)
		idx, ok2 := in(1)
		if !ok || !ok2 || d.scalar || n.AttrInt("axis", 0) != 0 || !idx.complete() {
			return shapeData{}, false
		}
		out := shapeData{dt: d.dt, scalar: idx.scalar}
		for _, i := range idx.vals {
			if i < 0 {
				i += int64(len(d.vals))
			}
			if i < 0 || int(i) >= len(d.vals) {
				return shapeData{}, false
			}
			out.vals = append(out.vals, d.vals[i])
		}
		return out, true
	case "Unsqueeze":
		d, ok := in(0)
		if !ok || !d.scalar {
			return shapeData{}, false
		}
		if axes := unsqueezeAxes(n, lookup); len(axes) != 1 || (axes[0] != 0 && axes[0] != -1) {
			return shapeData{}, false
		}
		d.scalar = false
		return d, true
	case "Squeeze":
		d, ok := in(0)
		if !ok || d.scalar || len(d.vals) != 1 {
			return shapeData{}, false
		}
		d.scalar = true
		return d, true
	case "Concat":
		if n.AttrInt("axis", 0) != 0 && n.AttrInt("axis", 0) != -1 {
			return shapeData{}, false
		}
		out := shapeData{vals: []int64{}}
		for i := range n.Inputs() {
			d, ok := in(i)
			if !ok || d.scalar {
				return shapeData{}, false
			}
			out.dt = d.dt
			out.vals = append(out.vals, d.vals...)
		}
		return out, true
	case "Slice":
		d, ok := in(0)
		if !ok || d.scalar {
			return shapeData{}, false
		}
		var starts, ends, axes, steps []int64
		if n.Attr("starts") != nil {
			starts, ends, axes = n.AttrInts("starts", nil), n.AttrInts("ends", nil), n.AttrInts("axes", nil)
		} else {
			var ok1, ok2 bool
			starts, ok1 = constInts(n.Input(1))
			ends, ok2 = constInts(n.Input(2))
			if !ok1 || !ok2 {
				return shapeData{}, false
			}
			if n.Input(3) != nil {
				if axes, ok = constInts(n.Input(3)); !ok {
					return shapeData{}, false
				}
			}
			if n.Input(4) != nil {
				if steps, ok = constInts(n.Input(4)); !ok {
					return shapeData{}, false
				}
			}
		}
		if len(starts) != 1 || len(ends) != 1 || (len(axes) == 1 && axes[0] != 0 && axes[0] != -1) || len(axes) > 1 ||
			(len(steps) == 1 && steps[0] != 1) || len(steps) > 1 {
			return shapeData{}, false
		}
		size := int64(len(d.vals))
		norm := func(v int64) int64 {
			if v < 0 {
				v += size
			}
			return min(max(v, 0), size)
		}
		s, e := norm(starts[0]), norm(ends[0])
		if e < s {
			e = s
		}
		return shapeData{vals: append([]int64(nil), d.vals[s:e]...), dt: d.dt}, true
	case "Add", "Sub", "Mul", "Div":
		a, ok1 := in(0)
		b, ok2 := in(1)
		if !ok1 || !ok2 {
			return shapeData{}, false
		}
		la, lb := len(a.vals), len(b.vals)
		if la != lb && la != 1 && lb != 1 {
			return shapeData{}, false
		}
		out := shapeData{dt: a.dt, scalar: a.scalar && b.scalar, vals: make([]int64, max(la, lb))}
		for i := range out.vals {
			x, y := a.vals[min(i, la-1)], b.vals[min(i, lb-1)]
			if x == unknownDim || y == unknownDim {
				out.vals[i] = unknownDim
				continue
			}
			switch n.OpType {
			case "Add":
				out.vals[i] = x + y
			case "Sub":
				out.vals[i] = x - y
			case "Mul":
				out.vals[i] = x * y
			case "Div":
				// Runtimes disagree on rounding negative quotients; shapes are not negative.
				if y <= 0 || x < 0 {
					return shapeData{}, false
				}
				out.vals[i] = x / y
			}
		}
		return out, true
	}
	return shapeData{}, false
}

// unsqueezeAxes returns Unsqueeze's axes (attribute before opset 13, input after).
func unsqueezeAxes(n *ir.Node, lookup func(*ir.Value) (shapeData, bool)) []int64 {
	if a := n.AttrInts("axes", nil); a != nil {
		return a
	}
	if xs, ok := constInts(n.Input(1)); ok {
		return xs
	}
	return nil
}

// constantShapeInput gives Reshape, Expand and ConstantOfShape a constant shape input
// when their output shape is static but the shape input is computed; the computation then
// dies. A zero dimension is left alone (Reshape reads 0 as "copy").
func (r *rewriter) constantShapeInput(n *ir.Node) error {
	var idx int
	switch n.OpType {
	case "Reshape", "Expand":
		idx = 1
	case "ConstantOfShape":
		idx = 0
	default:
		return nil
	}
	shape := n.Input(idx)
	if shape == nil || constOf(shape) != nil {
		return nil
	}
	out, ok := staticDims(n.Output(0))
	if !ok {
		return nil
	}
	for _, d := range out {
		if d == 0 {
			return nil
		}
	}
	if n.OpType == "Expand" {
		// Expand's result is broadcast(input, shape): with shape = out it is out again
		// only if the input has no more dimensions than out (it cannot, out being the
		// broadcast) — checked for safety.
		if rankOf(n.Input(0)) < 0 || rankOf(n.Input(0)) > len(out) {
			return nil
		}
	}
	c := r.addConst(n.Graph(), nodeLabel(n)+"_shape", ir.FromInt64("", []int64{int64(len(out))}, out))
	r.setInput(n, idx, c)
	return nil
}
