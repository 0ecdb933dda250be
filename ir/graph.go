package ir

import (
	"fmt"
)

// idSpace hands out dense IDs; a model and all its subgraphs share one.
type idSpace struct{ values, nodes int }

// Graph is a list of nodes in execution order with its inputs, outputs and initializers.
type Graph struct {
	Name      string
	DocString string
	// Inputs are the graph's inputs in order. In IR versions before 4 initializers are
	// listed here too.
	Inputs []*Value
	// Outputs are the graph's outputs in order: node outputs, inputs or initializers.
	Outputs []*Value
	// Initializers are the graph's constant values (dense and sparse) in file order.
	Initializers []*Value
	// QuantizationAnnotations keep TensorAnnotation entries: tensor name -> key/value names.
	QuantizationAnnotations []QuantAnnotation
	Metadata                []StringPair
	// ValueInfoOrder lists intermediate values that carried explicit value_info in the file, in
	// file order, so that writing the model back keeps it; their types are in Value.Type.
	ValueInfoOrder []*Value

	nodes []*Node
	dirty bool // nodes holds removed entries that Nodes has not compacted yet
	ids   *idSpace
	// owner is the node whose attribute holds this graph; nil for a model's main graph,
	// function bodies and training graphs. parent is the enclosing graph whose values
	// are visible here (nil for the main graph and function bodies).
	owner  *Node
	parent *Graph
}

// QuantAnnotation is a TensorAnnotation of GraphProto.quantization_annotation.
type QuantAnnotation struct {
	TensorName string
	Params     []StringPair
}

// NewGraph returns an empty top-level graph with its own ID space.
func NewGraph(name string) *Graph { return &Graph{Name: name, ids: &idSpace{}} }

// NewSubgraph returns an empty graph nested in g: it shares g's ID space and can read g's
// values. Attach it to a node with a graph attribute.
func (g *Graph) NewSubgraph(name string) *Graph {
	return &Graph{Name: name, ids: g.ids, parent: g}
}

// NewSibling returns an empty top-level graph sharing g's ID space but not its scope: the
// body of a model-local function, or a training graph.
func (g *Graph) NewSibling(name string) *Graph { return &Graph{Name: name, ids: g.ids} }

// Parent returns the enclosing graph of a subgraph, or nil.
func (g *Graph) Parent() *Graph { return g.parent }

// Owner returns the node holding the subgraph, or nil.
func (g *Graph) Owner() *Node { return g.owner }

// Nodes returns the graph's nodes in order. The returned slice is safe to range over while
// nodes are removed or inserted: those changes build a new slice. Do not modify it.
func (g *Graph) Nodes() []*Node {
	if g.dirty {
		live := make([]*Node, 0, len(g.nodes))
		for _, n := range g.nodes {
			if !n.removed {
				live = append(live, n)
			}
		}
		g.nodes = live
		g.dirty = false
	}
	return g.nodes
}

// NumNodes returns the number of nodes.
func (g *Graph) NumNodes() int { return len(g.Nodes()) }

// MaxValueID and MaxNodeID bound the IDs in use (for sizing side tables).
func (g *Graph) MaxValueID() int { return g.ids.values }

// MaxNodeID bounds node IDs in use.
func (g *Graph) MaxNodeID() int { return g.ids.nodes }

func (g *Graph) newValue(name string) *Value {
	v := &Value{id: g.ids.values, Name: name, graph: g, outIndex: -1}
	g.ids.values++
	return v
}

// AddInput appends a graph input.
func (g *Graph) AddInput(name string, t *Type) *Value {
	v := g.newValue(name)
	v.Type = t
	g.Inputs = append(g.Inputs, v)
	return v
}

// AddInitializer appends an initializer holding t, named after t.
func (g *Graph) AddInitializer(t *Tensor) *Value {
	v := g.newValue(t.Name)
	v.Const = t
	v.Type = TensorTypeOf(t.DataType, t.Dims...)
	g.Initializers = append(g.Initializers, v)
	return v
}

// AddSparseInitializer appends a sparse initializer, named after its values tensor.
func (g *Graph) AddSparseInitializer(s *SparseTensor) *Value {
	v := g.newValue(s.Values.Name)
	v.SparseConst = s
	dims := make([]Dim, len(s.Dims))
	for i, d := range s.Dims {
		dims[i] = Known(d)
	}
	v.Type = &Type{Kind: SparseTensorKind, Elem: s.Values.DataType, Dims: dims, HasShape: true}
	g.Initializers = append(g.Initializers, v)
	return v
}

// RemoveInitializer drops an unused initializer.
func (g *Graph) RemoveInitializer(v *Value) error {
	if len(v.uses) > 0 || v.IsGraphOutput() {
		return fmt.Errorf("initializer %q is still used", v.Name)
	}
	for i, w := range g.Initializers {
		if w == v {
			g.Initializers = append(g.Initializers[:i], g.Initializers[i+1:]...)
			for k, in := range g.Inputs {
				if in == v {
					g.Inputs = append(g.Inputs[:k], g.Inputs[k+1:]...)
					break
				}
			}
			return nil
		}
	}
	return fmt.Errorf("%q is not an initializer of graph %q", v.Name, g.Name)
}

// NewNode creates a node reading inputs (nil entries are omitted inputs) with one output per
// entry of outputNames ("" for an omitted optional output). The node is not yet in the
// graph's node list: add it with Append, InsertBefore or InsertAfter.
func (g *Graph) NewNode(domain, opType string, inputs []*Value, outputNames []string, attrs ...*Attr) *Node {
	n := &Node{id: g.ids.nodes, Domain: domain, OpType: opType, Attrs: attrs, graph: g}
	g.ids.nodes++
	n.inputs = make([]*Value, len(inputs))
	for i, v := range inputs {
		n.SetInput(i, v)
	}
	n.outputs = make([]*Value, len(outputNames))
	for i, name := range outputNames {
		if name == "" {
			continue
		}
		v := g.newValue(name)
		v.producer, v.outIndex = n, i
		n.outputs[i] = v
	}
	return n
}

// Append adds n at the end of the node list.
func (g *Graph) Append(n *Node) {
	g.adopt(n)
	// Earlier results of Nodes keep their length, so appending in place is safe for them.
	g.nodes = append(g.Nodes(), n)
}

// InsertBefore puts n just before ref in the node list.
func (g *Graph) InsertBefore(ref, n *Node) { g.insertAt(ref, n, 0) }

// InsertAfter puts n just after ref in the node list.
func (g *Graph) InsertAfter(ref, n *Node) { g.insertAt(ref, n, 1) }

func (g *Graph) insertAt(ref, n *Node, offset int) {
	g.adopt(n)
	nodes := g.Nodes()
	for i, m := range nodes {
		if m == ref {
			at := i + offset
			out := make([]*Node, 0, len(nodes)+1)
			out = append(out, nodes[:at]...)
			out = append(out, n)
			out = append(out, nodes[at:]...)
			g.nodes = out
			return
		}
	}
	panic(fmt.Sprintf("ir: %s is not in graph %q", ref.Describe(), g.Name))
}

func (g *Graph) adopt(n *Node) {
	if n.graph != g {
		panic(fmt.Sprintf("ir: %s belongs to another graph", n.Describe()))
	}
	n.removed = false
}

// RemoveNode takes n out of the graph. It fails while any output of n is still read or is a
// graph output; n's inputs stop counting it as a use.
func (g *Graph) RemoveNode(n *Node) error {
	for _, out := range n.outputs {
		if out == nil {
			continue
		}
		if len(out.uses) > 0 {
			return fmt.Errorf("remove %s: output %q is still read by %s", n.Describe(), out.Name, out.uses[0].Node.Describe())
		}
		if out.IsGraphOutput() {
			return fmt.Errorf("remove %s: output %q is a graph output", n.Describe(), out.Name)
		}
	}
	for i, in := range n.inputs {
		if in != nil {
			in.removeUse(n, i)
		}
	}
	n.removed = true
	g.dirty = true
	return nil
}

// ReplaceOutput makes graph output i be w instead of its current value.
func (g *Graph) ReplaceOutput(i int, w *Value) { g.Outputs[i] = w }

// Lookup finds a value visible in g by name: g's inputs, initializers and node outputs, then
// those of enclosing graphs. It walks the graph, so it is for tools and tests, not hot loops.
func (g *Graph) Lookup(name string) *Value {
	for s := g; s != nil; s = s.parent {
		for _, v := range s.Inputs {
			if v.Name == name {
				return v
			}
		}
		for _, v := range s.Initializers {
			if v.Name == name {
				return v
			}
		}
		for _, n := range s.Nodes() {
			for _, v := range n.outputs {
				if v != nil && v.Name == name {
					return v
				}
			}
		}
	}
	return nil
}

// AttachSubgraph records that sub is held by an attribute of n: sub reads n's graph's
// values and shares its ID space. Call it for every graph put in an attribute; a graph
// that already holds values should be made with NewSubgraph of n's graph instead, so that
// IDs stay unique.
func (n *Node) AttachSubgraph(sub *Graph) {
	sub.owner = n
	sub.parent = n.graph
	sub.ids = n.graph.ids
}
