package ir

import "fmt"

// Node is one operator call.
type Node struct {
	id       int
	Name     string
	Domain   string
	OpType   string
	Overload string
	// Attrs are in file order; use Attr to find one by name.
	Attrs     []*Attr
	DocString string
	Metadata  []StringPair

	inputs  []*Value // nil: an omitted optional input
	outputs []*Value // nil: an omitted optional output
	graph   *Graph
	removed bool
}

// ID is the node's dense ID, unique within its model.
func (n *Node) ID() int { return n.id }

// Graph is the graph the node belongs to.
func (n *Node) Graph() *Graph { return n.graph }

// Inputs returns the node's inputs; nil entries are omitted optional inputs. Do not modify
// the slice: use SetInput, AppendInput or TrimInputs.
func (n *Node) Inputs() []*Value { return n.inputs }

// Input returns input i, or nil when it is absent or omitted.
func (n *Node) Input(i int) *Value {
	if i < 0 || i >= len(n.inputs) {
		return nil
	}
	return n.inputs[i]
}

// Outputs returns the node's outputs; nil entries are omitted optional outputs.
func (n *Node) Outputs() []*Value { return n.outputs }

// Output returns output i, or nil when absent.
func (n *Node) Output(i int) *Value {
	if i < 0 || i >= len(n.outputs) {
		return nil
	}
	return n.outputs[i]
}

// SetInput makes input i read v (nil to omit it), keeping use lists in step.
func (n *Node) SetInput(i int, v *Value) {
	if old := n.inputs[i]; old != nil {
		old.removeUse(n, i)
	}
	n.inputs[i] = v
	if v != nil {
		v.addUse(n, i)
	}
}

// AppendInput adds v (nil for an omitted input) as the node's last input.
func (n *Node) AppendInput(v *Value) {
	n.inputs = append(n.inputs, nil)
	n.SetInput(len(n.inputs)-1, v)
}

// TrimInputs drops inputs from index k on.
func (n *Node) TrimInputs(k int) {
	for i := k; i < len(n.inputs); i++ {
		if v := n.inputs[i]; v != nil {
			v.removeUse(n, i)
		}
	}
	n.inputs = n.inputs[:k]
}

// Attr returns the attribute called name, or nil.
func (n *Node) Attr(name string) *Attr {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// SetAttr replaces the attribute of a's name, or adds a.
func (n *Node) SetAttr(a *Attr) {
	for i, old := range n.Attrs {
		if old.Name == a.Name {
			n.Attrs[i] = a
			return
		}
	}
	n.Attrs = append(n.Attrs, a)
}

// DeleteAttr removes the attribute called name, if present.
func (n *Node) DeleteAttr(name string) {
	for i, a := range n.Attrs {
		if a.Name == name {
			n.Attrs = append(n.Attrs[:i], n.Attrs[i+1:]...)
			return
		}
	}
}

// AttrInt returns the int attribute called name, or def when absent.
func (n *Node) AttrInt(name string, def int64) int64 {
	if a := n.Attr(name); a != nil && a.Type == AttrInt {
		return a.Int
	}
	return def
}

// AttrFloat returns the float attribute called name, or def when absent.
func (n *Node) AttrFloat(name string, def float32) float32 {
	if a := n.Attr(name); a != nil && a.Type == AttrFloat {
		return a.Float
	}
	return def
}

// AttrString returns the string attribute called name, or def when absent.
func (n *Node) AttrString(name, def string) string {
	if a := n.Attr(name); a != nil && a.Type == AttrString {
		return a.String
	}
	return def
}

// AttrInts returns the ints attribute called name, or def when absent.
func (n *Node) AttrInts(name string, def []int64) []int64 {
	if a := n.Attr(name); a != nil && a.Type == AttrInts {
		return a.Ints
	}
	return def
}

// AttrFloats returns the floats attribute called name, or def when absent.
func (n *Node) AttrFloats(name string, def []float32) []float32 {
	if a := n.Attr(name); a != nil && a.Type == AttrFloats {
		return a.Floats
	}
	return def
}

// Subgraphs lists the graphs held by the node's attributes, in attribute order.
func (n *Node) Subgraphs() []*Graph {
	var gs []*Graph
	for _, a := range n.Attrs {
		gs = append(gs, a.Subgraphs()...)
	}
	return gs
}

// Describe names the node for error messages: its name (or index-free ID) and op.
func (n *Node) Describe() string {
	op := n.OpType
	if n.Domain != "" {
		op = n.Domain + "::" + op
	}
	if n.Name != "" {
		return fmt.Sprintf("node %q (%s)", n.Name, op)
	}
	return fmt.Sprintf("node #%d (%s)", n.id, op)
}
