package passes

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

func init() {
	Register(Info{
		Name: "fold_constants",
		Doc: "replace nodes whose inputs are all constant by initializers holding their outputs " +
			"(Constant nodes become initializers; Shape and Size of static shapes fold without " +
			"evaluation); never random ops, ops with subgraphs or DequantizeLinear of weights",
		Params: []ParamInfo{{Name: "max_bytes", Doc: "largest folded output kept when it is larger than the node's inputs",
			Default: "1048576 (Context.MaxFoldBytes)"}},
		New: func(p Params) (Pass, error) {
			limit, err := p.Int("max_bytes", 0)
			if err != nil {
				return nil, err
			}
			if limit < 0 {
				return nil, fmt.Errorf("max_bytes must be >= 0, got %d", limit)
			}
			return simplePass{name: "fold_constants", run: func(ctx *Context, m *ir.Model) (bool, error) {
				return foldConstants(ctx, m, limit)
			}}, nil
		},
		// Evaluation failures are remembered only for one run, so no fixed-point flag.
	})
}

// neverFold lists operators whose outputs must not become constants even when their
// inputs are: DequantizeLinear of int8 weights is how QDQ models store weights (folding it
// would undo quantization and quadruple the size).
var neverFold = map[string]bool{"DequantizeLinear": true}

func foldConstants(ctx *Context, m *ir.Model, limit int64) (bool, error) {
	if limit == 0 {
		limit = ctx.maxFoldBytes()
	}
	ctx.ensureTypes(m)
	r := newRewriter(ctx, m)
	for _, g := range workGraphs(m) {
		for _, n := range g.Nodes() {
			outs, err := foldNode(ctx, m, n, limit)
			if err != nil || outs == nil {
				// A node the evaluator cannot run (no kernel, bad input) stays as it is:
				// folding is an optimization, and the runtime will report real errors.
				continue
			}
			if err := r.replaceByConstants(n, outs); err != nil {
				return r.changed, err
			}
		}
	}
	return r.changed, nil
}

// foldNode computes n's outputs when they are constant and worth storing; nil when not.
func foldNode(ctx *Context, m *ir.Model, n *ir.Node, limit int64) ([]*ir.Tensor, error) {
	if !ir.IsDefaultDomain(n.Domain) || isRandom(n) || hasSubgraphs(n) || neverFold[n.OpType] {
		return nil, nil
	}
	for _, v := range n.Outputs() {
		if v != nil && v.Type != nil && v.Type.Kind != ir.TensorKind {
			return nil, nil // sequences and optionals have no initializer form
		}
	}
	switch n.OpType {
	case "Constant":
		t, err := constantNodeTensor(n)
		if err != nil {
			return nil, err
		}
		return []*ir.Tensor{t}, nil
	case "Shape", "Size":
		if t := foldShape(n); t != nil {
			return []*ir.Tensor{t}, nil
		}
	}
	inputs := make([]*ir.Tensor, len(n.Inputs()))
	var inBytes int64
	any := false
	for i, v := range n.Inputs() {
		if v == nil {
			continue
		}
		t := constOf(v)
		if t == nil {
			return nil, nil
		}
		inputs[i] = t
		inBytes += tensorBytes(t)
		any = true
	}
	if !any || ctx.evaluator() == nil {
		return nil, nil
	}
	// Skip before evaluating when the output is known to be too large.
	big := func(bytes int64) bool { return bytes > limit && bytes > inBytes }
	for _, v := range n.Outputs() {
		if dims, ok := staticDims(v); ok && v.Type != nil {
			if ne, err := ir.NumElements(dims); err == nil {
				if b, err := v.Type.Elem.ByteSize(ne); err == nil && big(b) {
					return nil, nil
				}
			}
		}
	}
	outs, err := ctx.evaluator().EvalNode(m, n, inputs)
	if err != nil {
		return nil, err
	}
	if len(outs) != len(n.Outputs()) {
		return nil, fmt.Errorf("%s: evaluator returned %d outputs, want %d", n.Describe(), len(outs), len(n.Outputs()))
	}
	var outBytes int64
	for i, t := range outs {
		if n.Output(i) != nil && t == nil {
			return nil, fmt.Errorf("%s: evaluator returned no output %d", n.Describe(), i)
		}
		outBytes += tensorBytes(t)
	}
	if big(outBytes) {
		return nil, nil
	}
	return outs, nil
}

// foldShape computes Shape (with opset 15's start/end) or Size of a static shape.
func foldShape(n *ir.Node) *ir.Tensor {
	dims, ok := staticDims(n.Input(0))
	if !ok {
		return nil
	}
	name := nameOf(n.Output(0))
	if n.OpType == "Size" {
		ne, err := ir.NumElements(dims)
		if err != nil {
			return nil
		}
		return ir.FromInt64(name, nil, []int64{ne})
	}
	r := int64(len(dims))
	clamp := func(x int64) int64 {
		if x < 0 {
			x += r
		}
		return min(max(x, 0), r)
	}
	start, end := clamp(n.AttrInt("start", 0)), clamp(n.AttrInt("end", r))
	if end < start {
		end = start
	}
	sel := dims[start:end]
	return ir.FromInt64(name, []int64{int64(len(sel))}, sel)
}

// replaceByConstants makes initializers of outs stand in for n's outputs and removes n.
func (r *rewriter) replaceByConstants(n *ir.Node, outs []*ir.Tensor) error {
	g := n.Graph()
	for i, v := range n.Outputs() {
		if v == nil {
			continue
		}
		t := outs[i]
		c := r.addConst(g, v.Name+"_folded", t)
		if !r.replaceValue(v, c) {
			return fmt.Errorf("fold %s: cannot replace output %q", n.Describe(), v.Name)
		}
	}
	return r.removeNode(n)
}
