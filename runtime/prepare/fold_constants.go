package prepare

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// constantsToInitializers turns Constant nodes into initializers, so that every later
// rule sees weights as initializers.
var constantsToInitializers = Rule{Name: "constants_to_initializers", Apply: func(c *Context, g *ir.Graph) (bool, error) {
	return foldNodes(c, g, func(n *ir.Node) bool { return n.OpType == "Constant" })
}}

// foldConstants evaluates every node whose inputs are all constants, replacing it with
// initializers holding its outputs, so that nothing is recomputed per run (a
// DequantizeLinear of int8 weights that no integer rule claimed becomes float weights).
// The value names stay: a folded value holds what the node computed. Under KeepAll
// nothing is folded (an observer of every node expects them to run).
var foldConstants = Rule{Name: "fold_constants", Apply: func(c *Context, g *ir.Graph) (bool, error) {
	if c.all {
		return false, nil
	}
	return foldNodes(c, g, allConst)
}}

// maxFoldedElements bounds what folding may materialise per output: a Constant-fed
// Expand or ConstantOfShape could otherwise turn a small model into a huge one.
const maxFoldedElements = 1 << 24

// nondeterministic operators must run every time.
var nondeterministic = map[string]bool{
	"RandomNormal": true, "RandomNormalLike": true, "RandomUniform": true, "RandomUniformLike": true,
	"Bernoulli": true, "Multinomial": true,
}

// foldNodes replaces the default-domain nodes that fold selects by initializers holding
// their outputs.
func foldNodes(c *Context, g *ir.Graph, fold func(*ir.Node) bool) (bool, error) {
	changed := false
	for _, n := range g.Nodes() {
		if !isDefault(n) || len(n.Subgraphs()) > 0 || nondeterministic[n.OpType] || !fold(n) {
			continue
		}
		outs, err := evaluate(c.Model, n)
		if err != nil {
			continue // leave it to the session, which reports real errors with context
		}
		if err := toInitializers(g, n, outs); err != nil {
			return changed, err
		}
		changed = true
	}
	if changed {
		removeUnusedInitializers(g)
	}
	return changed, nil
}

func allConst(n *ir.Node) bool {
	if len(n.Inputs()) == 0 || len(n.Outputs()) == 0 {
		return false
	}
	for _, v := range n.Inputs() {
		if v != nil && (!v.IsConst() || v.Const == nil) {
			return false
		}
	}
	for _, v := range n.Outputs() {
		if v == nil || v.IsGraphOutput() {
			return false
		}
	}
	return true
}

// evaluate runs n's kernel on its constant inputs.
func evaluate(m *ir.Model, n *ir.Node) ([]*kernel.Tensor, error) {
	opset, ok := m.Opset(n.Domain)
	if !ok {
		return nil, fmt.Errorf("no opset for domain %q", n.Domain)
	}
	info := &kernel.NodeInfo{Node: n, Opset: opset}
	var inputs []*kernel.Tensor
	dt := ir.Undefined
	for _, v := range n.Inputs() {
		var t *kernel.Tensor
		if v != nil {
			var err error
			if t, err = kernel.FromIR(v.Const); err != nil {
				return nil, err
			}
			if dt == ir.Undefined {
				dt = t.DType
			}
		}
		inputs = append(inputs, t)
		info.Consts = append(info.Consts, t)
		info.InputTypes = append(info.InputTypes, typeOf(v))
	}
	for _, v := range n.Outputs() {
		info.OutputTypes = append(info.OutputTypes, typeOf(v))
	}
	def, err := kernel.Lookup(n.Domain, n.OpType, opset, dt)
	if err != nil {
		return nil, err
	}
	k, err := kernel.NewGuarded(def, info)
	if err != nil {
		return nil, err
	}
	outs, err := kernel.RunGuarded(k, &kernel.Context{}, inputs)
	if err != nil {
		return nil, err
	}
	if len(outs) < len(n.Outputs()) {
		return nil, fmt.Errorf("%d outputs for %d", len(outs), len(n.Outputs()))
	}
	for i, v := range n.Outputs() {
		if v == nil {
			continue
		}
		if outs[i] == nil || outs[i].Kind != kernel.TensorValue || outs[i].NumElements() > maxFoldedElements {
			return nil, fmt.Errorf("output %d cannot be folded", i)
		}
	}
	return outs, nil
}

func typeOf(v *ir.Value) *ir.Type {
	if v == nil {
		return nil
	}
	return v.Type
}

// toInitializers replaces n by initializers holding outs, under n's output names.
func toInitializers(g *ir.Graph, n *ir.Node, outs []*kernel.Tensor) error {
	var inits []*ir.Value
	for i, v := range n.Outputs() {
		if v == nil {
			inits = append(inits, nil)
			continue
		}
		t, err := kernel.ToIR(v.Name+"__folded", outs[i])
		if err != nil {
			return fmt.Errorf("%s: output %d: %w", n.Describe(), i, err)
		}
		inits = append(inits, g.AddInitializer(t))
	}
	for i, v := range n.Outputs() {
		if v == nil {
			continue
		}
		iv := inits[i]
		v.ReplaceAllUsesWith(iv)
	}
	if err := g.RemoveNode(n); err != nil {
		return err
	}
	for i, v := range n.Outputs() {
		if v != nil {
			inits[i].Name = v.Name
			inits[i].Const.Name = v.Name
		}
	}
	return nil
}

// removeUnusedInitializers drops initializers nothing reads (and that are not graph
// inputs or outputs), such as the operands of folded nodes.
func removeUnusedInitializers(g *ir.Graph) {
	for _, v := range append([]*ir.Value(nil), g.Initializers...) {
		if len(v.Uses()) == 0 && !v.IsGraphInput() && !v.IsGraphOutput() {
			_ = g.RemoveInitializer(v)
		}
	}
}
