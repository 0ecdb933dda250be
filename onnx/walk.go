package onnx

import (
	"fmt"

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

// tensorVisit is one tensor found in a model, with a description of where it is for
// error messages, such as `graph "main" initializer` or `node "c1" (Constant) attribute "value"`.
type tensorVisit struct {
	tensor *onnxpb.TensorProto
	where  string
	kind   tensorKind
}

// forEachTensor calls fn for every TensorProto a model holds: initializers and sparse
// initializers of the main graph, of every subgraph (If/Loop/Scan bodies, nested to any
// depth) and of training-info graphs, tensor attributes of nodes in all of those and in
// model-local functions, and attribute defaults of functions. It stops at fn's first error.
func forEachTensor(m *onnxpb.ModelProto, fn func(tensorVisit) error) error {
	w := tensorWalker{fn: fn}
	if err := w.graph(m.GetGraph(), ""); err != nil {
		return err
	}
	for i, ti := range m.GetTrainingInfo() {
		if err := w.graph(ti.GetInitialization(), fmt.Sprintf("training_info[%d] initialization ", i)); err != nil {
			return err
		}
		if err := w.graph(ti.GetAlgorithm(), fmt.Sprintf("training_info[%d] algorithm ", i)); err != nil {
			return err
		}
	}
	for _, f := range m.GetFunctions() {
		where := fmt.Sprintf("function %q ", f.GetName())
		for _, a := range f.GetAttributeProto() {
			if err := w.attribute(a, where+"default of "); err != nil {
				return err
			}
		}
		for _, n := range f.GetNode() {
			if err := w.node(n, where); err != nil {
				return err
			}
		}
	}
	return nil
}

type tensorWalker struct {
	fn func(tensorVisit) error
}

// graph walks g; prefix names the enclosing node or function for nested graphs.
func (w tensorWalker) graph(g *onnxpb.GraphProto, prefix string) error {
	if g == nil {
		return nil
	}
	where := fmt.Sprintf("%sgraph %q ", prefix, g.GetName())
	for _, t := range g.GetInitializer() {
		if err := w.fn(tensorVisit{t, where + "initializer", kindInitializer}); err != nil {
			return err
		}
	}
	for i, s := range g.GetSparseInitializer() {
		if err := w.sparse(s, fmt.Sprintf("%ssparse_initializer[%d]", where, i)); err != nil {
			return err
		}
	}
	for _, n := range g.GetNode() {
		if err := w.node(n, where); err != nil {
			return err
		}
	}
	return nil
}

func (w tensorWalker) node(n *onnxpb.NodeProto, prefix string) error {
	where := fmt.Sprintf("%snode %q (%s) ", prefix, n.GetName(), n.GetOpType())
	for _, a := range n.GetAttribute() {
		if err := w.attribute(a, where); err != nil {
			return err
		}
	}
	return nil
}

func (w tensorWalker) attribute(a *onnxpb.AttributeProto, prefix string) error {
	where := fmt.Sprintf("%sattribute %q", prefix, a.GetName())
	if t := a.GetT(); t != nil {
		if err := w.fn(tensorVisit{t, where, kindAttribute}); err != nil {
			return err
		}
	}
	for i, t := range a.GetTensors() {
		if err := w.fn(tensorVisit{t, fmt.Sprintf("%s[%d]", where, i), kindAttribute}); err != nil {
			return err
		}
	}
	if s := a.GetSparseTensor(); s != nil {
		if err := w.sparse(s, where); err != nil {
			return err
		}
	}
	for i, s := range a.GetSparseTensors() {
		if err := w.sparse(s, fmt.Sprintf("%s[%d]", where, i)); err != nil {
			return err
		}
	}
	if err := w.graph(a.GetG(), where+" "); err != nil {
		return err
	}
	for i, g := range a.GetGraphs() {
		if err := w.graph(g, fmt.Sprintf("%s[%d] ", where, i)); err != nil {
			return err
		}
	}
	return nil
}

func (w tensorWalker) sparse(s *onnxpb.SparseTensorProto, where string) error {
	if t := s.GetValues(); t != nil {
		if err := w.fn(tensorVisit{t, where + " values", kindSparse}); err != nil {
			return err
		}
	}
	if t := s.GetIndices(); t != nil {
		if err := w.fn(tensorVisit{t, where + " indices", kindSparse}); err != nil {
			return err
		}
	}
	return nil
}
