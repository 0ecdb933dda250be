package passes

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// A region is the part of a graph between two tensors that can be cut out and replaced as
// a unit: every node on a path from the entry tensor to the exit tensor. It is single-entry
// single-exit when its nodes read nothing computed outside it except the entry (constants
// are fine: initializers, Constant nodes and what is computed from constants only), and
// nothing it computes except the exit is read outside it or is a graph output.
// Distillation trains a smaller block to stand in for such a region; SpliceRegion puts it
// in place.

// Region is a single-entry single-exit region of a model's main graph.
type Region struct {
	Entry, Exit *ir.Value
	// Nodes are the region's nodes in graph order.
	Nodes []*ir.Node
	// ConstNodes compute constants the region reads (Constant nodes and what depends on
	// constants only), in graph order; they stay in the graph, other readers may share them.
	ConstNodes []*ir.Node
}

// RegionError says why two tensors do not bound a single-entry single-exit region.
type RegionError struct {
	From, To string
	// Tensor and Node name what breaks the rule, when one thing does.
	Tensor, Node string
	Reason       string
}

func (e *RegionError) Error() string {
	return fmt.Sprintf("region %s..%s: %s", e.From, e.To, e.Reason)
}

// FindRegion returns the region of m's main graph between tensors from and to.
func FindRegion(m *ir.Model, from, to string) (*Region, error) {
	if m == nil || m.Graph == nil {
		return nil, fmt.Errorf("region %s..%s: model has no graph", from, to)
	}
	g := m.Graph
	fail := func(tensor, node, format string, args ...any) error {
		return &RegionError{From: from, To: to, Tensor: tensor, Node: node, Reason: fmt.Sprintf(format, args...)}
	}
	entry, exit := lookupMain(g, from), lookupMain(g, to)
	switch {
	case entry == nil:
		return nil, fail(from, "", "the graph has no tensor %q", from)
	case exit == nil:
		return nil, fail(to, "", "the graph has no tensor %q", to)
	case entry == exit:
		return nil, fail(from, "", "the entry and the exit are the same tensor")
	case constOf(entry) != nil:
		return nil, fail(from, "", "the entry %q is a constant", from)
	case exit.Producer() == nil:
		return nil, fail(to, "", "the exit %q is not computed by a node", to)
	}
	order := map[*ir.Node]int{}
	for i, n := range g.Nodes() {
		order[n] = i
	}
	// Forward: nodes that read the entry, directly or not.
	fwd := map[*ir.Node]bool{}
	stack := []*ir.Value{entry}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, u := range v.Uses() {
			n := u.Node
			if n.Graph() != g {
				return nil, fail(v.Name, nodeLabel(n), "%q is read inside a subgraph (by %s)", v.Name, n.Describe())
			}
			if !fwd[n] {
				fwd[n] = true
				for _, o := range n.Outputs() {
					if o != nil {
						stack = append(stack, o)
					}
				}
			}
		}
	}
	if !fwd[exit.Producer()] {
		return nil, fail(to, "", "%q is not computed from %q", to, from)
	}
	// Backward from the exit, stopping at the entry: the region is what is on both sides.
	in := map[*ir.Node]bool{}
	var walk func(n *ir.Node)
	walk = func(n *ir.Node) {
		if in[n] || !fwd[n] {
			return
		}
		in[n] = true
		for _, v := range n.Inputs() {
			if v != nil && v != entry && v.Producer() != nil {
				walk(v.Producer())
			}
		}
	}
	walk(exit.Producer())
	r := &Region{Entry: entry, Exit: exit}
	for _, n := range g.Nodes() {
		if in[n] {
			r.Nodes = append(r.Nodes, n)
		}
	}
	constNodes := map[*ir.Node]bool{}
	for _, n := range r.Nodes {
		if len(n.Subgraphs()) > 0 {
			return nil, fail("", nodeLabel(n), "%s has subgraphs, which a region cannot hold", n.Describe())
		}
		for _, v := range n.Inputs() {
			if v == nil || v == entry || in[v.Producer()] {
				continue
			}
			if !constantOnly(v, constNodes) {
				return nil, fail(v.Name, nodeLabel(n), "%s reads %q, which is computed outside the region: a second entry", n.Describe(), v.Name)
			}
		}
		for _, v := range n.Outputs() {
			if v == nil || v == exit {
				continue
			}
			if v.IsGraphOutput() {
				return nil, fail(v.Name, nodeLabel(n), "%q, computed inside, is a graph output: a second exit", v.Name)
			}
			for _, u := range v.Uses() {
				if !in[u.Node] {
					return nil, fail(v.Name, nodeLabel(u.Node), "%q, computed inside, is read outside by %s: a second exit", v.Name, u.Node.Describe())
				}
			}
		}
	}
	for _, n := range g.Nodes() {
		if constNodes[n] {
			r.ConstNodes = append(r.ConstNodes, n)
		}
	}
	return r, nil
}

// lookupMain finds a value of g itself by name (not of an enclosing graph).
func lookupMain(g *ir.Graph, name string) *ir.Value {
	v := g.Lookup(name)
	if v == nil || v.Graph() != g {
		return nil
	}
	return v
}

// constantOnly reports whether v is a constant or computed from constants only; the
// nodes computing it are added to nodes.
func constantOnly(v *ir.Value, nodes map[*ir.Node]bool) bool {
	if v.IsGraphInput() {
		return false
	}
	p := v.Producer()
	if p == nil {
		return v.Const != nil
	}
	if nodes[p] {
		return true
	}
	if len(p.Subgraphs()) > 0 || isRandom(p) {
		return false
	}
	for _, in := range p.Inputs() {
		if in != nil && !constantOnly(in, nodes) {
			return false
		}
	}
	nodes[p] = true
	return true
}

// Extract returns the region as a model of its own: one input named after the entry, one
// output named after the exit, the region's nodes and the constants they read, with the
// types m's values carry (run shape inference on m first). Node and value names are m's.
func (r *Region) Extract(m *ir.Model) *ir.Model {
	g := ir.NewGraph(m.Graph.Name + "_region")
	vals := map[*ir.Value]*ir.Value{}
	vals[r.Entry] = g.AddInput(r.Entry.Name, r.Entry.Type.Clone())
	mapped := func(v *ir.Value) *ir.Value {
		if v == nil {
			return nil
		}
		if w, ok := vals[v]; ok {
			return w
		}
		// An initializer (the only inputs not produced by copied nodes).
		w := g.AddInitializer(v.Const.Clone())
		w.Name, w.Const.Name = v.Name, v.Name
		vals[v] = w
		return w
	}
	copyNode := func(n *ir.Node) {
		ins := make([]*ir.Value, len(n.Inputs()))
		for i, v := range n.Inputs() {
			ins[i] = mapped(v)
		}
		names := make([]string, len(n.Outputs()))
		for i, v := range n.Outputs() {
			if v != nil {
				names[i] = v.Name
			}
		}
		attrs := make([]*ir.Attr, len(n.Attrs))
		for i, a := range n.Attrs {
			c := *a
			c.Tensor = a.Tensor.Clone()
			attrs[i] = &c
		}
		c := g.NewNode(n.Domain, n.OpType, ins, names, attrs...)
		c.Name = n.Name
		for i, v := range n.Outputs() {
			if v != nil {
				c.Output(i).Type = v.Type.Clone()
				vals[v] = c.Output(i)
			}
		}
		g.Append(c)
	}
	// Constants first: they read nothing the region computes.
	for _, n := range r.ConstNodes {
		copyNode(n)
	}
	for _, n := range r.Nodes {
		copyNode(n)
	}
	g.Outputs = []*ir.Value{vals[r.Exit]}
	return &ir.Model{
		IRVersion:       m.IRVersion,
		OpsetImports:    append([]ir.OpsetID(nil), m.OpsetImports...),
		ProducerName:    "whittle",
		Graph:           g,
		ProducerVersion: m.ProducerVersion,
	}
}
