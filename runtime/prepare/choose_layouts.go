package prepare

import (
	"github.com/whittle-ml/whittle/ir"
)

// chooseLayouts moves convolutional parts of the graph to channels-last (NHWC) tensors,
// where the fused convolution kernels read whole channel vectors per pixel: every 2-D
// float convolution becomes NhwcConv, and pools, GlobalAveragePool and elementwise
// operators whose input is already channels-last follow it. Reorder nodes convert at the
// boundaries: before the first NHWC reader of an NCHW value, and back to the original
// value (under its name) where something else reads it, where it is kept or where it is a
// graph output. The rule runs once: what it makes is no longer a candidate.
var chooseLayouts = Rule{Name: "choose_layouts", Apply: applyChooseLayouts}

// layoutAgnostic are elementwise operators whose result does not depend on the layout
// of their tensor inputs, as long as every such input is in the same layout.
var layoutAgnostic = map[string]bool{
	"Relu": true, "Clip": true, "Sigmoid": true, "Tanh": true, "HardSigmoid": true, "HardSwish": true,
	"LeakyRelu": true, "Neg": true, "Abs": true, "Exp": true, "Elu": true, "Selu": true, "Softplus": true,
	"Mish": true, "Erf": true, "Add": true, "Sub": true, "Mul": true, "Div": true,
}

func applyChooseLayouts(c *Context, g *ir.Graph) (bool, error) {
	if c.all {
		return false, nil
	}
	l := &layouts{c: c, g: g, nhwc: map[*ir.Value]*ir.Value{}}
	var converted []*ir.Node
	for _, n := range g.Nodes() {
		if l.convert(n) {
			converted = append(converted, n)
		}
	}
	if len(converted) == 0 {
		return false, nil
	}
	// Remove the converted nodes, last first (so that converted readers are gone before
	// their producers), giving back the original value to whatever still needs it.
	for i := len(converted) - 1; i >= 0; i-- {
		n := converted[i]
		for _, v := range n.Outputs() {
			if v == nil || (len(v.Uses()) == 0 && !c.Kept(v)) {
				continue
			}
			back := g.NewNode(Domain, OpReorder, []*ir.Value{l.nhwc[v]}, []string{c.Fresh(v.Name + "__nchw")},
				ir.StringAttr("to", "NCHW"))
			g.InsertAfter(l.nhwc[v].Producer(), back)
			out := back.Output(0)
			out.Type = v.Type
			v.ReplaceAllUsesWith(out)
			for j, o := range g.Outputs {
				if o == v {
					g.ReplaceOutput(j, out)
				}
			}
			defer func(out *ir.Value, name string) { out.Name = name }(out, v.Name)
		}
		if err := g.RemoveNode(n); err != nil {
			return true, err
		}
	}
	return true, nil
}

type layouts struct {
	c    *Context
	g    *ir.Graph
	nhwc map[*ir.Value]*ir.Value // original value → its channels-last version
}

// convert makes the channels-last form of n, if n should have one, and reports whether
// it did; n itself stays until applyChooseLayouts removes it.
func (l *layouts) convert(n *ir.Node) bool {
	switch {
	case l.convCandidate(n):
		inputs := []*ir.Value{l.toNHWC(n, n.Input(0)), n.Input(1), nil, nil}
		if len(n.Inputs()) > 2 {
			inputs[2] = n.Input(2)
		}
		if len(n.Inputs()) > 3 && n.Input(3) != nil {
			inputs[3] = l.toNHWC(n, n.Input(3))
		}
		for len(inputs) > 2 && inputs[len(inputs)-1] == nil {
			inputs = inputs[:len(inputs)-1]
		}
		l.emit(n, OpNhwcConv, Domain, inputs, n.Attrs)
	case !isDefault(n) || len(n.Outputs()) != 1 || !l.readsNHWC(n):
		return false
	case (n.OpType == "MaxPool" || n.OpType == "AveragePool") && l.nhwc[n.Input(0)] != nil &&
		len(n.AttrInts("kernel_shape", nil)) == 2:
		op := OpNhwcMaxPool
		if n.OpType == "AveragePool" {
			op = OpNhwcAveragePool
		}
		l.emit(n, op, Domain, []*ir.Value{l.nhwc[n.Input(0)]}, n.Attrs)
	case n.OpType == "GlobalAveragePool" && l.nhwc[n.Input(0)] != nil:
		// [N, 1, 1, C] and [N, C, 1, 1] share their memory: the result is the original
		// value, and its channels-last view is a reshape of it.
		gap := l.g.NewNode(Domain, OpNhwcGlobalAveragePool, []*ir.Value{l.nhwc[n.Input(0)]}, l.c.tmpNames(n))
		if err := replace(l.g, []*ir.Node{n}, n, gap); err != nil {
			return false
		}
		return false
	case layoutAgnostic[n.OpType]:
		inputs, ok := l.agnosticInputs(n)
		if !ok {
			return false
		}
		l.emit(n, n.OpType, n.Domain, inputs, n.Attrs)
	default:
		return false
	}
	return true
}

// convCandidate reports whether n is a float 2-D Conv or FusedConv, dense or depthwise,
// with constant weights and bias.
func (l *layouts) convCandidate(n *ir.Node) bool {
	if !(isOp(n, "Conv") || (n.Domain == Domain && n.OpType == OpFusedConv)) || !isFloatTensor(n.Output(0)) {
		return false
	}
	w := n.Input(1)
	if w == nil || w.Const == nil || len(w.Const.Dims) != 4 || rank(n.Input(0)) != 4 {
		return false
	}
	if b := n.Input(2); b != nil && b.Const == nil {
		return false
	}
	if z := n.Input(3); z != nil && rank(z) != 4 {
		return false
	}
	group := n.AttrInt("group", 1)
	m, cg := w.Const.Dims[0], w.Const.Dims[1]
	return group == 1 || (group == m && cg == 1)
}

func rank(v *ir.Value) int {
	if v == nil || v.Type == nil || v.Type.Kind != ir.TensorKind || !v.Type.HasShape {
		return -1
	}
	return len(v.Type.Dims)
}

// agnosticInputs returns the inputs of an elementwise node in channels-last form: every
// 4-D input must have a channels-last version or be per-channel ([N or 1, C, 1, 1],
// reshaped to [N or 1, 1, 1, C]); scalars and one-element tensors stay as they are.
func (l *layouts) agnosticInputs(n *ir.Node) ([]*ir.Value, bool) {
	out := make([]*ir.Value, len(n.Inputs()))
	for i, v := range n.Inputs() {
		switch {
		case v == nil:
		case l.nhwc[v] != nil:
			out[i] = l.nhwc[v]
		case isOneElement(v):
			out[i] = v
		case perChannel(v):
			out[i] = l.reshapePerChannel(n, v)
		default:
			return nil, false
		}
	}
	return out, true
}

func isOneElement(v *ir.Value) bool {
	if v.Type == nil || v.Type.Kind != ir.TensorKind || !v.Type.HasShape {
		return false
	}
	for _, d := range v.Type.Dims {
		if !d.IsKnown() || d.Value != 1 {
			return false
		}
	}
	return len(v.Type.Dims) <= 4
}

// perChannel reports a 4-D [N, C, 1, 1] value.
func perChannel(v *ir.Value) bool {
	if rank(v) != 4 {
		return false
	}
	d := v.Type.Dims
	return d[2].IsKnown() && d[2].Value == 1 && d[3].IsKnown() && d[3].Value == 1
}

// reshapePerChannel gives [N, C, 1, 1] the shape [N, 1, 1, C] (the same memory).
func (l *layouts) reshapePerChannel(before *ir.Node, v *ir.Value) *ir.Value {
	if w := l.nhwc[v]; w != nil {
		return w
	}
	shape := l.g.AddInitializer(ir.FromInt64(l.c.Fresh(v.Name+"__nhwc_shape"), []int64{4}, []int64{0, 1, 1, -1}))
	r := l.g.NewNode("", "Reshape", []*ir.Value{v, shape}, []string{l.c.Fresh(v.Name + "__nhwc")})
	l.g.InsertBefore(before, r)
	r.Output(0).Type = permuted(v.Type)
	l.nhwc[v] = r.Output(0)
	return r.Output(0)
}

// readsNHWC reports whether some input of n has a channels-last version.
func (l *layouts) readsNHWC(n *ir.Node) bool {
	for _, v := range n.Inputs() {
		if v != nil && l.nhwc[v] != nil {
			return true
		}
	}
	return false
}

// toNHWC returns the channels-last version of v, inserting a Reorder (or, for a
// per-channel [N, C, 1, 1] value, a Reshape) before the node that first needs it.
func (l *layouts) toNHWC(before *ir.Node, v *ir.Value) *ir.Value {
	if w := l.nhwc[v]; w != nil {
		return w
	}
	if perChannel(v) {
		return l.reshapePerChannel(before, v)
	}
	r := l.g.NewNode(Domain, OpReorder, []*ir.Value{v}, []string{l.c.Fresh(v.Name + "__nhwc")}, ir.StringAttr("to", "NHWC"))
	l.g.InsertBefore(before, r)
	r.Output(0).Type = permuted(v.Type)
	l.nhwc[v] = r.Output(0)
	return r.Output(0)
}

// emit inserts the channels-last form of n before it and records its outputs.
func (l *layouts) emit(n *ir.Node, op, domain string, inputs []*ir.Value, attrs []*ir.Attr) {
	names := make([]string, len(n.Outputs()))
	for i, v := range n.Outputs() {
		names[i] = l.c.Fresh(v.Name + "__nhwc")
	}
	nn := l.g.NewNode(domain, op, inputs, names, attrs...)
	nn.Name = n.Name
	l.g.InsertBefore(n, nn)
	for i, v := range n.Outputs() {
		nn.Output(i).Type = permuted(v.Type)
		l.nhwc[v] = nn.Output(i)
	}
}

// permuted returns the type of an [N, C, H, W] tensor stored as [N, H, W, C].
func permuted(t *ir.Type) *ir.Type {
	if t == nil || t.Kind != ir.TensorKind || !t.HasShape || len(t.Dims) != 4 {
		return t
	}
	p := t.Clone()
	p.Dims = []ir.Dim{t.Dims[0], t.Dims[2], t.Dims[3], t.Dims[1]}
	return p
}
