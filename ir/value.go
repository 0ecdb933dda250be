package ir

// Use is one place a value is read: input Index of Node.
type Use struct {
	Node  *Node
	Index int
}

// Value is an edge of the graph: a graph input, an initializer, or a node output.
type Value struct {
	id   int
	Name string
	// Type is what is known of the value's type; nil when nothing is.
	Type *Type
	// Const holds the initializer's data when the value is an initializer.
	Const *Tensor
	// SparseConst holds a sparse initializer's data.
	SparseConst *SparseTensor
	DocString   string
	Metadata    []StringPair

	graph    *Graph
	producer *Node
	outIndex int
	uses     []Use
}

// ID is the value's dense ID, unique within its model.
func (v *Value) ID() int { return v.id }

// Graph is the graph that defines the value.
func (v *Value) Graph() *Graph { return v.graph }

// Producer returns the node whose output v is, or nil for graph inputs and initializers.
func (v *Value) Producer() *Node { return v.producer }

// OutputIndex is v's position among its producer's outputs.
func (v *Value) OutputIndex() int { return v.outIndex }

// Uses lists where v is read. The slice is v's own: do not modify it, and copy it before
// changing edges while iterating.
func (v *Value) Uses() []Use { return v.uses }

// IsConst reports whether v is an initializer (dense or sparse).
func (v *Value) IsConst() bool { return v.Const != nil || v.SparseConst != nil }

// IsGraphInput reports whether v is an input of its graph.
func (v *Value) IsGraphInput() bool {
	if v.graph == nil {
		return false
	}
	for _, in := range v.graph.Inputs {
		if in == v {
			return true
		}
	}
	return false
}

// IsGraphOutput reports whether v is an output of its graph.
func (v *Value) IsGraphOutput() bool {
	if v.graph == nil {
		return false
	}
	for _, out := range v.graph.Outputs {
		if out == v {
			return true
		}
	}
	return false
}

// ReplaceAllUsesWith makes every node that reads v read w instead. Graph outputs are not
// changed (they name the graph's interface); use Graph.ReplaceOutput for those.
func (v *Value) ReplaceAllUsesWith(w *Value) {
	if v == w {
		return
	}
	uses := append([]Use(nil), v.uses...)
	for _, u := range uses {
		u.Node.SetInput(u.Index, w)
	}
}

func (v *Value) addUse(n *Node, i int) { v.uses = append(v.uses, Use{n, i}) }

func (v *Value) removeUse(n *Node, i int) {
	for k, u := range v.uses {
		if u.Node == n && u.Index == i {
			v.uses = append(v.uses[:k], v.uses[k+1:]...)
			return
		}
	}
}
