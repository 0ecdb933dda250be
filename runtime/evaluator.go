package runtime

import (
	"context"
	"fmt"
	"strconv"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// ConstEvaluator evaluates single nodes on constant inputs with the runtime's kernels. It
// implements passes.Evaluator (constant folding) without package runtime importing passes.
type ConstEvaluator struct{}

// EvalNode runs n alone: it builds a one-node model whose initializers are inputs (so
// kernels that want constant inputs see them as such), with m's opset imports, and returns
// the outputs in n's order (nil where n omits one). Nodes holding subgraphs are refused:
// their bodies would have to be copied with every outer value they capture.
func (ConstEvaluator) EvalNode(m *ir.Model, n *ir.Node, inputs []*ir.Tensor) ([]*ir.Tensor, error) {
	if len(n.Subgraphs()) > 0 {
		return nil, fmt.Errorf("evaluate %s: nodes with subgraphs are not evaluated alone", n.Describe())
	}
	if len(inputs) != len(n.Inputs()) {
		return nil, fmt.Errorf("evaluate %s: %d inputs given, the node has %d", n.Describe(), len(inputs), len(n.Inputs()))
	}
	g := ir.NewGraph("eval")
	ins := make([]*ir.Value, len(inputs))
	for i, t := range inputs {
		if t == nil {
			if n.Input(i) != nil {
				return nil, fmt.Errorf("evaluate %s: input %d (%q) has no value", n.Describe(), i, n.Input(i).Name)
			}
			continue
		}
		c := t.Clone()
		c.Name = "in" + strconv.Itoa(i)
		ins[i] = g.AddInitializer(c)
	}
	outNames := make([]string, len(n.Outputs()))
	for i, v := range n.Outputs() {
		if v != nil {
			outNames[i] = "out" + strconv.Itoa(i)
		}
	}
	attrs := make([]*ir.Attr, len(n.Attrs))
	for i, a := range n.Attrs {
		c := *a
		attrs[i] = &c
	}
	one := g.NewNode(n.Domain, n.OpType, ins, outNames, attrs...)
	one.Name = n.Name
	g.Append(one)
	for i, v := range one.Outputs() {
		if v != nil {
			v.Type = n.Output(i).Type.Clone()
			g.Outputs = append(g.Outputs, v)
		}
	}
	irVersion := m.IRVersion
	if irVersion < 4 {
		irVersion = 4 // initializers need not be listed as inputs
	}
	em := &ir.Model{IRVersion: irVersion, OpsetImports: append([]ir.OpsetID(nil), m.OpsetImports...), Graph: g, Functions: m.Functions}
	sess, err := NewSession(em, Options{})
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", n.Describe(), err)
	}
	outs, err := sess.RunOrdered(context.Background(), nil)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", n.Describe(), err)
	}
	result := make([]*ir.Tensor, len(n.Outputs()))
	k := 0
	for i, v := range n.Outputs() {
		if v == nil {
			continue
		}
		t, err := kernel.ToIR(v.Name, outs[k])
		if err != nil {
			return nil, fmt.Errorf("evaluate %s: output %d: %w", n.Describe(), i, err)
		}
		result[i] = t
		k++
	}
	return result, nil
}
