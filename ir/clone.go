package ir

// Clone returns a deep copy of the model. Nodes and values keep their IDs, so side tables
// built for the original index the copy too. Tensor bytes are shared (tensors are
// immutable by convention).
func (m *Model) Clone() *Model {
	c := *m
	c.OpsetImports = append([]OpsetID(nil), m.OpsetImports...)
	c.Metadata = append([]StringPair(nil), m.Metadata...)
	cl := &cloner{values: map[*Value]*Value{}}
	if m.Graph != nil {
		cl.ids = &idSpace{}
		*cl.ids = *m.Graph.ids
		c.Graph = cl.graph(m.Graph, nil, nil)
	}
	c.Functions = nil
	for _, f := range m.Functions {
		fc := *f
		fc.Body = cl.graph(f.Body, nil, nil)
		fc.AttrNames = append([]string(nil), f.AttrNames...)
		fc.AttrDefaults = nil
		for _, a := range f.AttrDefaults {
			fc.AttrDefaults = append(fc.AttrDefaults, cl.attr(a, nil))
		}
		fc.OpsetImports = append([]OpsetID(nil), f.OpsetImports...)
		fc.Metadata = append([]StringPair(nil), f.Metadata...)
		c.Functions = append(c.Functions, &fc)
	}
	c.TrainingInfo = nil
	for _, ti := range m.TrainingInfo {
		tc := &TrainingInfo{
			InitializationBinding: append([]StringPair(nil), ti.InitializationBinding...),
			UpdateBinding:         append([]StringPair(nil), ti.UpdateBinding...),
		}
		if ti.Initialization != nil {
			tc.Initialization = cl.graph(ti.Initialization, c.Graph, nil)
		}
		if ti.Algorithm != nil {
			tc.Algorithm = cl.graph(ti.Algorithm, c.Graph, nil)
		}
		c.TrainingInfo = append(c.TrainingInfo, tc)
	}
	return &c
}

type cloner struct {
	ids    *idSpace
	values map[*Value]*Value
}

func (cl *cloner) value(v *Value, g *Graph) *Value {
	c := &Value{
		id: v.id, Name: v.Name, Type: v.Type.Clone(), Const: v.Const.Clone(), SparseConst: v.SparseConst.Clone(),
		DocString: v.DocString, Metadata: append([]StringPair(nil), v.Metadata...), graph: g, outIndex: v.outIndex,
	}
	cl.values[v] = c
	return c
}

// mapped returns the copy of v; values from outside the cloned model (which Verify would
// reject) are kept as they are.
func (cl *cloner) mapped(v *Value) *Value {
	if v == nil {
		return nil
	}
	if c, ok := cl.values[v]; ok {
		return c
	}
	return v
}

func (cl *cloner) graph(g, parent *Graph, owner *Node) *Graph {
	c := &Graph{
		Name: g.Name, DocString: g.DocString, Metadata: append([]StringPair(nil), g.Metadata...),
		ids: cl.ids, parent: parent, owner: owner,
	}
	for _, qa := range g.QuantizationAnnotations {
		c.QuantizationAnnotations = append(c.QuantizationAnnotations, QuantAnnotation{qa.TensorName, append([]StringPair(nil), qa.Params...)})
	}
	for _, v := range g.Inputs {
		c.Inputs = append(c.Inputs, cl.value(v, c))
	}
	for _, v := range g.Initializers {
		if cv, ok := cl.values[v]; ok {
			cv.Const, cv.SparseConst = v.Const.Clone(), v.SparseConst.Clone()
			c.Initializers = append(c.Initializers, cv)
			continue
		}
		c.Initializers = append(c.Initializers, cl.value(v, c))
	}
	nodes := g.Nodes()
	// Outputs first, so that a graph out of topological order still clones.
	copies := make([]*Node, len(nodes))
	for i, n := range nodes {
		nc := &Node{
			id: n.id, Name: n.Name, Domain: n.Domain, OpType: n.OpType, Overload: n.Overload,
			DocString: n.DocString, Metadata: append([]StringPair(nil), n.Metadata...), graph: c,
		}
		nc.outputs = make([]*Value, len(n.outputs))
		for k, out := range n.outputs {
			if out != nil {
				o := cl.value(out, c)
				o.producer = nc
				nc.outputs[k] = o
			}
		}
		copies[i] = nc
	}
	for i, n := range nodes {
		nc := copies[i]
		nc.inputs = make([]*Value, len(n.inputs))
		for k, in := range n.inputs {
			nc.SetInput(k, cl.mapped(in))
		}
		for _, a := range n.Attrs {
			nc.Attrs = append(nc.Attrs, cl.attr(a, nc))
		}
	}
	c.nodes = copies
	for _, v := range g.Outputs {
		c.Outputs = append(c.Outputs, cl.mapped(v))
	}
	for _, v := range g.ValueInfoOrder {
		c.ValueInfoOrder = append(c.ValueInfoOrder, cl.mapped(v))
	}
	return c
}

func (cl *cloner) attr(a *Attr, owner *Node) *Attr {
	c := *a
	c.Tensor = a.Tensor.Clone()
	c.SparseTensor = a.SparseTensor.Clone()
	c.TypeProto = a.TypeProto.Clone()
	c.Floats = append([]float32(nil), a.Floats...)
	c.Ints = append([]int64(nil), a.Ints...)
	c.Strings = append([]string(nil), a.Strings...)
	c.Tensors = nil
	for _, t := range a.Tensors {
		c.Tensors = append(c.Tensors, t.Clone())
	}
	c.SparseTensors = nil
	for _, s := range a.SparseTensors {
		c.SparseTensors = append(c.SparseTensors, s.Clone())
	}
	c.TypeProtos = nil
	for _, t := range a.TypeProtos {
		c.TypeProtos = append(c.TypeProtos, t.Clone())
	}
	if a.Graph != nil && owner != nil {
		c.Graph = cl.graph(a.Graph, owner.graph, owner)
	}
	c.Graphs = nil
	for _, g := range a.Graphs {
		if owner != nil {
			c.Graphs = append(c.Graphs, cl.graph(g, owner.graph, owner))
		}
	}
	return &c
}
