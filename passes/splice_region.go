package passes

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// SpliceRegion replaces the region of m between tensors from and to by block, a model
// with one input and one output (a smaller student of the region, typically made from
// Region.Extract). The block's input becomes the entry tensor, its output takes the exit
// tensor's name and readers, the region's nodes and the constants only they read go, and
// the block's nodes, initializers and values take their own names where the removal left
// them free (so that a block derived from the region shows in a diff as the same nodes
// and weights, changed). Every edit is logged in ctx's change log.
func SpliceRegion(ctx *Context, m *ir.Model, from, to string, block *ir.Model) error {
	if ctx.pass == "" {
		ctx.pass = "splice_region"
		defer func() { ctx.pass = "" }()
	}
	reg, err := FindRegion(m, from, to)
	if err != nil {
		return err
	}
	bin, err := blockInterface(block)
	if err != nil {
		return fmt.Errorf("splice %s..%s: %w", from, to, err)
	}
	bout := block.Graph.Outputs[0]
	if err := compatibleTypes(reg.Entry.Type, bin.Type); err != nil {
		return fmt.Errorf("splice %s..%s: the block's input %q does not fit %q: %w", from, to, bin.Name, from, err)
	}
	if err := compatibleTypes(reg.Exit.Type, bout.Type); err != nil {
		return fmt.Errorf("splice %s..%s: the block's output %q does not fit %q: %w", from, to, bout.Name, to, err)
	}
	g := m.Graph
	r := newRewriter(ctx, m)
	ref := reg.Exit.Producer()
	vals := map[*ir.Value]*ir.Value{bin: reg.Entry}
	type pending struct {
		v    *ir.Value
		name string
	}
	var renames []pending
	var nodeNames []struct {
		n    *ir.Node
		name string
	}
	for _, v := range block.Graph.Initializers {
		if v.IsGraphInput() {
			continue
		}
		w := r.addConst(g, v.Name, v.Const)
		vals[v] = w
		renames = append(renames, pending{w, v.Name})
	}
	for _, bn := range block.Graph.Nodes() {
		ins := make([]*ir.Value, len(bn.Inputs()))
		for i, v := range bn.Inputs() {
			if v == nil {
				continue
			}
			w, ok := vals[v]
			if !ok {
				return fmt.Errorf("splice %s..%s: block node %s reads %q, which the block does not define", from, to, bn.Describe(), v.Name)
			}
			ins[i] = w
		}
		hints := make([]string, len(bn.Outputs()))
		for i, v := range bn.Outputs() {
			if v != nil {
				hints[i] = v.Name
			}
		}
		attrs := make([]*ir.Attr, len(bn.Attrs))
		for i, a := range bn.Attrs {
			if a.Graph != nil || len(a.Graphs) > 0 {
				return fmt.Errorf("splice %s..%s: block node %s has subgraphs", from, to, bn.Describe())
			}
			c := *a
			c.Tensor = a.Tensor.Clone()
			attrs[i] = &c
		}
		n := r.newNode(g, ref, bn.Domain, bn.OpType, ins, hints, attrs...)
		nodeNames = append(nodeNames, struct {
			n    *ir.Node
			name string
		}{n, bn.Name})
		for i, v := range bn.Outputs() {
			if v == nil {
				continue
			}
			w := n.Output(i)
			w.Type = v.Type.Clone()
			vals[v] = w
			if v != bout {
				renames = append(renames, pending{w, v.Name})
			}
		}
	}
	newExit, ok := vals[bout]
	if !ok {
		return fmt.Errorf("splice %s..%s: the block's output %q is not computed by its nodes", from, to, bout.Name)
	}
	if newExit == reg.Entry {
		return fmt.Errorf("splice %s..%s: the block passes its input straight through", from, to)
	}
	if !r.replaceValue(reg.Exit, newExit) {
		return fmt.Errorf("splice %s..%s: cannot put the block's output in place of %q", from, to, to)
	}
	// The old region goes, last node first, with the constants only it read.
	var orphans []*ir.Value
	for i := len(reg.Nodes) - 1; i >= 0; i-- {
		n := reg.Nodes[i]
		for _, v := range n.Inputs() {
			if v != nil && v != reg.Entry {
				orphans = append(orphans, v)
			}
		}
		if err := r.removeNode(n); err != nil {
			return fmt.Errorf("splice %s..%s: %w", from, to, err)
		}
	}
	if err := r.dropOrphans(orphans); err != nil {
		return err
	}
	// Names the removal freed go back to the block's values and nodes.
	taken := ir.ValueNames(m)
	for _, p := range renames {
		if p.v.Name != p.name && !taken.Taken(p.name) {
			r.rename(p.v, p.name)
			taken.Take(p.name)
		}
	}
	nodes := ir.NodeNames(g)
	for _, nn := range nodeNames {
		if nn.name != "" && !nodes.Taken(nn.name) {
			nn.n.Name = nn.name
			nodes.Take(nn.name)
		} else if nn.name != "" {
			nn.n.Name = nodes.Fresh(nn.name)
		}
	}
	return nil
}

// blockInterface checks that block has one input to feed and one output.
func blockInterface(block *ir.Model) (*ir.Value, error) {
	if block == nil || block.Graph == nil {
		return nil, fmt.Errorf("the block has no graph")
	}
	var feeds []*ir.Value
	for _, v := range block.Graph.Inputs {
		if !v.IsConst() {
			feeds = append(feeds, v)
		}
	}
	if len(feeds) != 1 || len(block.Graph.Outputs) != 1 {
		return nil, fmt.Errorf("a block needs one input and one output, it has %d and %d", len(feeds), len(block.Graph.Outputs))
	}
	return feeds[0], nil
}

// compatibleTypes checks that b can stand where a is: same element type and rank, and
// equal sizes where both are known.
func compatibleTypes(a, b *ir.Type) error {
	if a == nil || b == nil || a.Kind != ir.TensorKind || b.Kind != ir.TensorKind {
		return nil
	}
	if a.Elem != b.Elem && a.Elem != ir.Undefined && b.Elem != ir.Undefined {
		return fmt.Errorf("element type %s, want %s", b.Elem, a.Elem)
	}
	if !a.HasShape || !b.HasShape {
		return nil
	}
	if len(a.Dims) != len(b.Dims) {
		return fmt.Errorf("shape %s, want %s", b, a)
	}
	for i := range a.Dims {
		if a.Dims[i].IsKnown() && b.Dims[i].IsKnown() && a.Dims[i].Value != b.Dims[i].Value {
			return fmt.Errorf("shape %s, want %s", b, a)
		}
	}
	return nil
}
