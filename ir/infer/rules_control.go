package infer

import (
	"github.com/whittle-ml/whittle/ir"
)

// Control flow (If, Loop, Scan), sequences and optionals.

func init() {
	register(ruleIf, "If")
	register(ruleLoop, "Loop")
	register(ruleScan, "Scan")
	register(ruleSequenceEmpty, "SequenceEmpty")
	register(ruleSequenceConstruct, "SequenceConstruct")
	register(ruleSequenceInsert, "SequenceInsert", "SequenceErase")
	register(ruleSequenceAt, "SequenceAt")
	register(ruleSequenceLength, "SequenceLength")
	register(ruleSplitToSequence, "SplitToSequence")
	register(ruleConcatFromSequence, "ConcatFromSequence")
	register(ruleOptional, "Optional")
	register(ruleOptionalHasElement, "OptionalHasElement")
	register(ruleOptionalGetElement, "OptionalGetElement")
}

func (c *ctx) subgraph(name string) *ir.Graph {
	if a := c.n.Attr(name); a != nil && a.Type == ir.AttrGraph {
		return a.Graph
	}
	return nil
}

// inferBody walks a body graph with the node's opset imports.
func (c *ctx) inferBody(g *ir.Graph) { c.e.graph(g, c.opsets) }

// setBodyInput types a body's formal input when the file left it untyped.
func setBodyInput(v *ir.Value, t *ir.Type) {
	if v == nil || t == nil {
		return
	}
	if v.Type == nil || v.Type.Kind == ir.NoKind {
		v.Type = t.Clone()
		return
	}
	if merged, conflict := mergeType(v.Type, t); conflict == "" {
		v.Type = merged
	}
}

// generalize returns a type covering both a and b: what they share, with differing
// dimensions unknown and differing ranks dropped.
func generalize(a, b *ir.Type) *ir.Type {
	switch {
	case a == nil || b == nil:
		return nil
	case a.Equal(b):
		return a.Clone()
	case a.Kind != b.Kind:
		return nil
	}
	out := a.Clone()
	switch a.Kind {
	case ir.TensorKind, ir.SparseTensorKind:
		if a.Elem != b.Elem {
			out.Elem = ir.Undefined
		}
		if !a.HasShape || !b.HasShape || len(a.Dims) != len(b.Dims) {
			out.Dims, out.HasShape = nil, false
			return out
		}
		for k := range a.Dims {
			if !sameDim(a.Dims[k], b.Dims[k]) {
				out.Dims[k] = ir.UnknownDim
			} else {
				out.Dims[k] = clean(a.Dims[k])
			}
		}
	case ir.SequenceKind, ir.OptionalKind:
		out.Inner = generalize(a.Inner, b.Inner)
	}
	return out
}

func ruleIf(c *ctx) {
	then, els := c.subgraph("then_branch"), c.subgraph("else_branch")
	if then == nil || els == nil {
		c.problem("attributes", "then_branch or else_branch missing")
		return
	}
	c.inferBody(then)
	c.inferBody(els)
	if len(then.Outputs) != len(els.Outputs) && c.opset < 16 {
		c.problem("else_branch", "%d outputs, then_branch has %d", len(els.Outputs), len(then.Outputs))
	}
	for i := 0; i < c.numOutputs() && i < len(then.Outputs) && i < len(els.Outputs); i++ {
		a, b := then.Outputs[i].Type, els.Outputs[i].Type
		if a != nil && b != nil && a.Kind == ir.TensorKind && b.Kind == ir.TensorKind &&
			a.Elem != ir.Undefined && b.Elem != ir.Undefined && a.Elem != b.Elem {
			c.problem("else_branch", "output %d is %s, then_branch gives %s", i, b, a)
			continue
		}
		c.out(i, generalize(a, b))
	}
}

func ruleLoop(c *ctx) {
	body := c.subgraph("body")
	if body == nil {
		c.problem(attrName("body"), "missing")
		return
	}
	nCarried := c.numInputs() - 2
	if nCarried < 0 {
		nCarried = 0
	}
	if len(body.Inputs) != nCarried+2 {
		c.problem(attrName("body"), "body has %d inputs, want %d (iteration, condition and %d carried values)", len(body.Inputs), nCarried+2, nCarried)
		return
	}
	setBodyInput(body.Inputs[0], tensor(ir.Int64, nil, true))
	setBodyInput(body.Inputs[1], tensor(ir.Bool, nil, true))
	for k := 0; k < nCarried; k++ {
		setBodyInput(body.Inputs[2+k], c.in(2+k))
	}
	c.inferBody(body)
	if len(body.Outputs) < 1+nCarried {
		c.problem(attrName("body"), "body has %d outputs, want at least %d", len(body.Outputs), 1+nCarried)
		return
	}
	for k := 0; k < nCarried; k++ {
		// A carried value may change shape between iterations.
		t := body.Outputs[1+k].Type
		if init := c.in(2 + k); init != nil {
			t = generalize(init, t)
		}
		c.out(k, t)
	}
	// Scan outputs stack one slice per iteration; the count is a constant trip count when
	// nothing else can stop the loop.
	trips := ir.UnknownDim
	if m, ok := c.ints(0); ok && len(m) == 1 && !c.has(1) {
		trips = ir.Known(m[0])
	}
	for k := 1 + nCarried; k < len(body.Outputs); k++ {
		t := body.Outputs[k].Type
		if t == nil {
			continue
		}
		if t.Kind != ir.TensorKind {
			continue
		}
		out := t.Clone()
		d := trips
		if !d.IsKnown() {
			d = c.e.freshDim()
		}
		if out.HasShape {
			out.Dims = append([]ir.Dim{d}, out.Dims...)
		}
		c.out(k-1, out)
	}
}

func ruleScan(c *ctx) {
	body := c.subgraph("body")
	if body == nil {
		c.problem(attrName("body"), "missing")
		return
	}
	m := int(c.n.AttrInt("num_scan_inputs", 0))
	first := 0
	batched := c.opset > 0 && c.opset < 9
	if batched {
		first = 1 // Scan-8's first input is sequence_lens, and every tensor has a batch axis.
	}
	nStates := c.numInputs() - first - m
	if m <= 0 || nStates < 0 || len(body.Inputs) != nStates+m {
		c.problem(attrName("num_scan_inputs"), "%d scan inputs do not fit %d inputs and a body with %d inputs", m, c.numInputs(), len(body.Inputs))
		return
	}
	inAxes, _ := c.attrInts("scan_input_axes")
	outAxes, _ := c.attrInts("scan_output_axes")
	strip := func(t *ir.Type, axis int) *ir.Type {
		switch {
		case t == nil || !t.HasShape:
			return t
		case axis < 0 || axis >= len(t.Dims):
			return nil
		}
		out := t.Clone()
		out.Dims = append(out.Dims[:axis:axis], out.Dims[axis+1:]...)
		return out
	}
	seqLen := ir.UnknownDim
	var batch ir.Dim = ir.UnknownDim
	for k := 0; k < nStates; k++ {
		t := c.in(first + k)
		if batched {
			if t != nil && t.HasShape && len(t.Dims) > 0 {
				batch = clean(t.Dims[0])
			}
			t = strip(t, 0)
		}
		setBodyInput(body.Inputs[k], t)
	}
	for k := 0; k < m; k++ {
		t := c.in(first + nStates + k)
		axis := 0
		if batched {
			if t != nil && t.HasShape && len(t.Dims) > 1 {
				batch, seqLen = clean(t.Dims[0]), clean(t.Dims[1])
			}
			t = strip(strip(t, 0), 0)
		} else {
			if k < len(inAxes) {
				axis = int(inAxes[k])
				if r := t.Rank(); axis < 0 && r > 0 {
					axis += r
				}
			}
			if t != nil && t.HasShape && axis >= 0 && axis < len(t.Dims) {
				seqLen = clean(t.Dims[axis])
			}
			t = strip(t, axis)
		}
		setBodyInput(body.Inputs[nStates+k], t)
	}
	c.inferBody(body)
	for k := 0; k < nStates && k < len(body.Outputs); k++ {
		t := body.Outputs[k].Type.Clone()
		if batched && t != nil && t.HasShape {
			t.Dims = append([]ir.Dim{batch}, t.Dims...)
		}
		c.out(k, t)
	}
	for k := nStates; k < len(body.Outputs); k++ {
		t := body.Outputs[k].Type.Clone()
		if t == nil || !t.HasShape {
			c.out(k, t)
			continue
		}
		if batched {
			t.Dims = append([]ir.Dim{batch, seqLen}, t.Dims...)
			c.out(k, t)
			continue
		}
		axis := 0
		if j := k - nStates; j < len(outAxes) {
			axis = int(outAxes[j])
			if axis < 0 {
				axis += len(t.Dims) + 1
			}
		}
		if axis < 0 || axis > len(t.Dims) {
			c.problem(attrName("scan_output_axes"), "axis %d out of range", axis)
			continue
		}
		dims := append(append(append([]ir.Dim{}, t.Dims[:axis]...), seqLen), t.Dims[axis:]...)
		t.Dims = dims
		c.out(k, t)
	}
}

func seqOf(t *ir.Type) *ir.Type { return &ir.Type{Kind: ir.SequenceKind, Inner: t} }

func ruleSequenceEmpty(c *ctx) {
	elem := ir.DataType(c.n.AttrInt("dtype", int64(ir.Float)))
	c.out(0, seqOf(&ir.Type{Kind: ir.TensorKind, Elem: elem}))
}

func ruleSequenceConstruct(c *ctx) {
	var t *ir.Type
	for i := range c.n.Inputs() {
		if i == 0 {
			t = c.in(i).Clone()
		} else {
			t = generalize(t, c.in(i))
		}
	}
	if t != nil {
		c.out(0, seqOf(t))
	}
}

func ruleSequenceInsert(c *ctx) {
	s := c.in(0)
	if s == nil || s.Kind != ir.SequenceKind {
		return
	}
	out := s.Clone()
	if c.n.OpType == "SequenceInsert" && c.in(1) != nil && out.Inner != nil {
		out.Inner = generalize(out.Inner, c.in(1))
	}
	c.out(0, out)
}

func ruleSequenceAt(c *ctx) {
	if s := c.in(0); s != nil && s.Kind == ir.SequenceKind && s.Inner != nil {
		c.out(0, s.Inner.Clone())
	}
}

func ruleSequenceLength(c *ctx) { c.outTensor(0, ir.Int64, nil, true) }

func ruleSplitToSequence(c *ctx) {
	elem := c.elem(0)
	d, ok := c.shape(0)
	if !ok {
		c.out(0, seqOf(tensor(elem, nil, false)))
		return
	}
	axis, ok := c.normAxis(c.n.AttrInt("axis", 0), len(d), attrName("axis"))
	if !ok {
		return
	}
	out := cloneDims(d)
	if !c.has(1) && c.n.AttrInt("keepdims", 1) == 0 {
		out = append(out[:axis], out[axis+1:]...)
	} else {
		out[axis] = ir.UnknownDim
		if s, ok := c.ints(1); ok && len(s) == 1 && c.rank(1) == 0 {
			out[axis] = ir.Known(s[0])
			if d[axis].IsKnown() && s[0] > 0 && d[axis].Value%s[0] != 0 {
				out[axis] = ir.UnknownDim // the last chunk is shorter
			}
		} else if !c.has(1) {
			out[axis] = ir.Known(1)
		}
	}
	c.out(0, seqOf(tensor(elem, out, true)))
}

func ruleConcatFromSequence(c *ctx) {
	s := c.in(0)
	if s == nil || s.Kind != ir.SequenceKind || s.Inner == nil {
		return
	}
	inner := s.Inner
	if !inner.HasShape {
		c.outTensor(0, inner.Elem, nil, false)
		return
	}
	newAxis := c.n.AttrInt("new_axis", 0) != 0
	rank := len(inner.Dims)
	if newAxis {
		rank++
	}
	axis, ok := c.normAxis(c.n.AttrInt("axis", 0), rank, attrName("axis"))
	if !ok {
		return
	}
	out := cloneDims(inner.Dims)
	if newAxis {
		out = append(out[:axis], append([]ir.Dim{ir.UnknownDim}, out[axis:]...)...)
	} else {
		out[axis] = ir.UnknownDim
	}
	c.outTensor(0, inner.Elem, out, true)
}

func ruleOptional(c *ctx) {
	if t := c.in(0); t != nil {
		c.out(0, &ir.Type{Kind: ir.OptionalKind, Inner: t.Clone()})
		return
	}
	if a := c.n.Attr("type"); a != nil && a.TypeProto != nil {
		c.out(0, &ir.Type{Kind: ir.OptionalKind, Inner: a.TypeProto.Clone()})
	}
}

func ruleOptionalHasElement(c *ctx) { c.outTensor(0, ir.Bool, nil, true) }

func ruleOptionalGetElement(c *ctx) {
	t := c.in(0)
	if t == nil {
		return
	}
	if t.Kind == ir.OptionalKind {
		if t.Inner != nil {
			c.out(0, t.Inner.Clone())
		}
		return
	}
	c.out(0, t.Clone())
}
