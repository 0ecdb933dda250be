package onnx

import (
	"fmt"
	"strings"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// tensorKind says where a tensor sits, which decides whether WriteFile may move it out.
type tensorKind int

const (
	// kindInitializer: an entry of some graph's initializer list (main graph, subgraph,
	// or training graph). These are what ONNX tools store as external data.
	kindInitializer tensorKind = iota
	// kindSparse: the values or indices of a sparse initializer or sparse attribute.
	kindSparse
	// kindAttribute: a tensor attribute value (Constant's value, ConstantOfShape's...).
	kindAttribute
)

// tensorVisit is one tensor found in a model; where() describes where it is for error
// messages, such as `graph "main" initializer` or `node "c1" (Constant) attribute "value"`.
type tensorVisit struct {
	tensor *onnxpb.TensorProto
	at     *place
	kind   tensorKind
}

func (v tensorVisit) where() string { return v.at.String() }

// place is a position in the model as a chain of description fragments, rendered only
// when a message needs it: building the full text at every level would cost time and
// memory quadratic in the nesting depth of subgraphs.
type place struct {
	parent *place
	text   string
}

func (p *place) in(text string) *place { return &place{parent: p, text: text} }

func (p *place) String() string {
	var parts []string
	for q := p; q != nil; q = q.parent {
		parts = append(parts, q.text)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
	}
	return b.String()
}

// forEachTensor calls fn for every TensorProto a model holds: initializers and sparse
// initializers of the main graph, of every subgraph (If/Loop/Scan bodies, nested to any
// depth) and of training-info graphs, tensor attributes of nodes in all of those and in
// model-local functions, and attribute defaults of functions. It stops at fn's first error.
func forEachTensor(m *onnxpb.ModelProto, fn func(tensorVisit) error) error {
	w := tensorWalker{fn: fn}
	if err := w.graph(m.GetGraph(), nil); err != nil {
		return err
	}
	for i, ti := range m.GetTrainingInfo() {
		if err := w.graph(ti.GetInitialization(), (*place)(nil).in(fmt.Sprintf("training_info[%d] initialization ", i))); err != nil {
			return err
		}
		if err := w.graph(ti.GetAlgorithm(), (*place)(nil).in(fmt.Sprintf("training_info[%d] algorithm ", i))); err != nil {
			return err
		}
	}
	for _, f := range m.GetFunctions() {
		at := (*place)(nil).in(fmt.Sprintf("function %q ", f.GetName()))
		for _, a := range f.GetAttributeProto() {
			if err := w.attribute(a, at.in("default of ")); err != nil {
				return err
			}
		}
		for _, n := range f.GetNode() {
			if err := w.node(n, at); err != nil {
				return err
			}
		}
	}
	return nil
}

type tensorWalker struct {
	fn func(tensorVisit) error
}

// graph walks g; at names the enclosing node or function for nested graphs.
func (w tensorWalker) graph(g *onnxpb.GraphProto, at *place) error {
	if g == nil {
		return nil
	}
	at = at.in(fmt.Sprintf("graph %q ", g.GetName()))
	for _, t := range g.GetInitializer() {
		if err := w.fn(tensorVisit{t, at.in("initializer"), kindInitializer}); err != nil {
			return err
		}
	}
	for i, s := range g.GetSparseInitializer() {
		if err := w.sparse(s, at.in(fmt.Sprintf("sparse_initializer[%d]", i))); err != nil {
			return err
		}
	}
	for _, n := range g.GetNode() {
		if err := w.node(n, at); err != nil {
			return err
		}
	}
	return nil
}

func (w tensorWalker) node(n *onnxpb.NodeProto, at *place) error {
	at = at.in(fmt.Sprintf("node %q (%s) ", n.GetName(), n.GetOpType()))
	for _, a := range n.GetAttribute() {
		if err := w.attribute(a, at); err != nil {
			return err
		}
	}
	return nil
}

func (w tensorWalker) attribute(a *onnxpb.AttributeProto, at *place) error {
	at = at.in(fmt.Sprintf("attribute %q", a.GetName()))
	if t := a.GetT(); t != nil {
		if err := w.fn(tensorVisit{t, at, kindAttribute}); err != nil {
			return err
		}
	}
	for i, t := range a.GetTensors() {
		if err := w.fn(tensorVisit{t, at.in(fmt.Sprintf("[%d]", i)), kindAttribute}); err != nil {
			return err
		}
	}
	if s := a.GetSparseTensor(); s != nil {
		if err := w.sparse(s, at); err != nil {
			return err
		}
	}
	for i, s := range a.GetSparseTensors() {
		if err := w.sparse(s, at.in(fmt.Sprintf("[%d]", i))); err != nil {
			return err
		}
	}
	if err := w.graph(a.GetG(), at.in(" ")); err != nil {
		return err
	}
	for i, g := range a.GetGraphs() {
		if err := w.graph(g, at.in(fmt.Sprintf("[%d] ", i))); err != nil {
			return err
		}
	}
	return nil
}

func (w tensorWalker) sparse(s *onnxpb.SparseTensorProto, at *place) error {
	if t := s.GetValues(); t != nil {
		if err := w.fn(tensorVisit{t, at.in(" values"), kindSparse}); err != nil {
			return err
		}
	}
	if t := s.GetIndices(); t != nil {
		if err := w.fn(tensorVisit{t, at.in(" indices"), kindSparse}); err != nil {
			return err
		}
	}
	return nil
}
