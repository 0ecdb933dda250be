package onnx

import (
	"errors"
	"fmt"
	"strings"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// Limits bound what a model may ask of whittle before any of it is processed. A file of
// a few hundred kilobytes can nest thousands of subgraphs or hold millions of empty nodes;
// whittle's checker, inference and runtime are linear in such structure, but memory and
// time still grow with it, and a service reading models from anywhere needs a bound it
// can state. Decode and ToIR refuse a model past any limit with a *LimitError.
type Limits struct {
	// MaxSubgraphDepth bounds how deeply graphs nest in node attributes (If, Loop, Scan
	// bodies): the main graph is level 0, a body of one of its nodes level 1.
	MaxSubgraphDepth int
	// MaxTypeDepth bounds the nesting of sequence, optional and map types.
	MaxTypeDepth int
	// MaxNodes bounds the nodes of all graphs and function bodies together.
	MaxNodes int
	// MaxAttrElems bounds the elements of one list attribute (ints, floats, strings,
	// tensors, graphs).
	MaxAttrElems int
	// MaxNameBytes bounds every name: graphs, nodes, values, attributes, op types, domains.
	MaxNameBytes int
	// MaxStringBytes bounds one string attribute or one element of a strings attribute.
	MaxStringBytes int
}

// DefaultLimits are far above anything exporters produce (the largest models we know
// have a few hundred thousand nodes and nest a handful of levels) and low enough that a
// model within them cannot make whittle's structure walks cost more than a few seconds
// and a few hundred MB.
var DefaultLimits = Limits{
	MaxSubgraphDepth: 4096,
	MaxTypeDepth:     64,
	MaxNodes:         1 << 22,
	MaxAttrElems:     1 << 24,
	MaxNameBytes:     1 << 16,
	MaxStringBytes:   1 << 26,
}

// ErrLimit is wrapped by every *LimitError.
var ErrLimit = errors.New("model exceeds a limit")

// LimitError reports a model past one of its Limits.
type LimitError struct {
	What  string // e.g. "subgraph nesting depth"
	Limit int
	Got   int    // the value found; 0 when only known to be past Limit
	Where string // the graph, node or attribute concerned; may be empty
	Note  string // what the limit means, when What alone does not say
}

func (e *LimitError) Error() string {
	var b strings.Builder
	if e.Where != "" {
		b.WriteString(e.Where + ": ")
	}
	if e.Got > 0 {
		fmt.Fprintf(&b, "%s %d exceeds whittle's limit of %d", e.What, e.Got, e.Limit)
	} else {
		fmt.Fprintf(&b, "%s exceeds whittle's limit of %d", e.What, e.Limit)
	}
	if e.Note != "" {
		b.WriteString(" (" + e.Note + ")")
	}
	return b.String()
}

func (e *LimitError) Unwrap() error { return ErrLimit }

// protoRecursionLimit is the message nesting protobuf decoding allows: three messages per
// subgraph level (graph, node, attribute), two per type level, and room for the rest.
func protoRecursionLimit(l Limits) int {
	return 3*l.MaxSubgraphDepth + 2*l.MaxTypeDepth + 32
}

// CheckLimits walks m once, without recursion, and returns a *LimitError for the first
// limit it exceeds, or nil.
func CheckLimits(m *onnxpb.ModelProto, l Limits) error {
	w := limitWalk{l: l}
	type item struct {
		g     *onnxpb.GraphProto
		depth int
		where string
	}
	var stack []item
	if m.GetGraph() != nil {
		stack = append(stack, item{m.GetGraph(), 0, ""})
	}
	for i, ti := range m.GetTrainingInfo() {
		for _, g := range []*onnxpb.GraphProto{ti.GetInitialization(), ti.GetAlgorithm()} {
			if g != nil {
				stack = append(stack, item{g, 0, fmt.Sprintf("training_info[%d]", i)})
			}
		}
	}
	for _, f := range m.GetFunctions() {
		where := fmt.Sprintf("function %q", truncate(f.GetName()))
		if err := w.names(where, f.GetName(), f.GetDomain()); err != nil {
			return err
		}
		for _, n := range f.GetNode() {
			subs, err := w.node(where, n)
			if err != nil {
				return err
			}
			for _, g := range subs {
				stack = append(stack, item{g, 1, where})
			}
		}
		for _, a := range f.GetAttributeProto() {
			subs, err := w.attr(where, a)
			if err != nil {
				return err
			}
			for _, g := range subs {
				stack = append(stack, item{g, 1, where})
			}
		}
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		g := it.g
		where := fmt.Sprintf("graph %q", truncate(g.GetName()))
		if it.where != "" {
			where = it.where + " / " + where
		}
		if it.depth > l.MaxSubgraphDepth {
			return &LimitError{What: "subgraph nesting depth", Limit: l.MaxSubgraphDepth, Got: it.depth, Where: where}
		}
		if err := w.names(where, g.GetName()); err != nil {
			return err
		}
		for _, vis := range [][]*onnxpb.ValueInfoProto{g.GetInput(), g.GetOutput(), g.GetValueInfo()} {
			for _, vi := range vis {
				if err := w.valueInfo(where, vi); err != nil {
					return err
				}
			}
		}
		for _, t := range g.GetInitializer() {
			if err := w.names(where, t.GetName()); err != nil {
				return err
			}
		}
		for _, n := range g.GetNode() {
			subs, err := w.node(where, n)
			if err != nil {
				return err
			}
			// Only the enclosing node is named: a path through every level would make the
			// walk quadratic in the depth it is there to bound.
			nodeWhere := fmt.Sprintf("node %q (%s)", truncate(n.GetName()), truncate(n.GetOpType()))
			for _, sub := range subs {
				stack = append(stack, item{sub, it.depth + 1, nodeWhere})
			}
		}
	}
	return nil
}

type limitWalk struct {
	l     Limits
	nodes int
}

func (w *limitWalk) node(where string, n *onnxpb.NodeProto) ([]*onnxpb.GraphProto, error) {
	w.nodes++
	if w.nodes > w.l.MaxNodes {
		return nil, &LimitError{What: "node count", Limit: w.l.MaxNodes, Got: w.nodes, Where: where}
	}
	if err := w.names(where, n.GetName(), n.GetOpType(), n.GetDomain(), n.GetOverload()); err != nil {
		return nil, err
	}
	if err := w.names(where, n.GetInput()...); err != nil {
		return nil, err
	}
	if err := w.names(where, n.GetOutput()...); err != nil {
		return nil, err
	}
	var subs []*onnxpb.GraphProto
	for _, a := range n.GetAttribute() {
		gs, err := w.attr(fmt.Sprintf("%s: node %q (%s)", where, truncate(n.GetName()), truncate(n.GetOpType())), a)
		if err != nil {
			return nil, err
		}
		subs = append(subs, gs...)
	}
	return subs, nil
}

func (w *limitWalk) attr(where string, a *onnxpb.AttributeProto) ([]*onnxpb.GraphProto, error) {
	if err := w.names(where, a.GetName(), a.GetRefAttrName()); err != nil {
		return nil, err
	}
	field := fmt.Sprintf("%s: attribute %q", where, truncate(a.GetName()))
	for _, n := range []int{len(a.GetInts()), len(a.GetFloats()), len(a.GetStrings()), len(a.GetTensors()),
		len(a.GetGraphs()), len(a.GetSparseTensors()), len(a.GetTypeProtos())} {
		if n > w.l.MaxAttrElems {
			return nil, &LimitError{What: "attribute list length", Limit: w.l.MaxAttrElems, Got: n, Where: field}
		}
	}
	if n := len(a.GetS()); n > w.l.MaxStringBytes {
		return nil, &LimitError{What: "string attribute size in bytes", Limit: w.l.MaxStringBytes, Got: n, Where: field}
	}
	for _, s := range a.GetStrings() {
		if len(s) > w.l.MaxStringBytes {
			return nil, &LimitError{What: "string attribute size in bytes", Limit: w.l.MaxStringBytes, Got: len(s), Where: field}
		}
	}
	if err := w.typeDepth(field, a.GetTp()); err != nil {
		return nil, err
	}
	for _, tp := range a.GetTypeProtos() {
		if err := w.typeDepth(field, tp); err != nil {
			return nil, err
		}
	}
	subs := a.GetGraphs()
	if g := a.GetG(); g != nil {
		subs = append([]*onnxpb.GraphProto{g}, subs...)
	}
	return subs, nil
}

func (w *limitWalk) valueInfo(where string, vi *onnxpb.ValueInfoProto) error {
	if err := w.names(where, vi.GetName()); err != nil {
		return err
	}
	return w.typeDepth(fmt.Sprintf("%s: value %q", where, truncate(vi.GetName())), vi.GetType())
}

// typeDepth follows a type's element types down to its innermost one.
func (w *limitWalk) typeDepth(where string, t *onnxpb.TypeProto) error {
	depth := 0
	for t != nil {
		depth++
		if depth > w.l.MaxTypeDepth {
			return &LimitError{What: "type nesting depth", Limit: w.l.MaxTypeDepth, Got: depth, Where: where}
		}
		switch v := t.GetValue().(type) {
		case *onnxpb.TypeProto_SequenceType:
			t = v.SequenceType.GetElemType()
		case *onnxpb.TypeProto_OptionalType:
			t = v.OptionalType.GetElemType()
		case *onnxpb.TypeProto_MapType:
			t = v.MapType.GetValueType()
		default:
			t = nil
		}
	}
	return nil
}

func (w *limitWalk) names(where string, names ...string) error {
	for _, s := range names {
		if len(s) > w.l.MaxNameBytes {
			return &LimitError{What: fmt.Sprintf("name %q length in bytes", truncate(s)), Limit: w.l.MaxNameBytes, Got: len(s), Where: where}
		}
	}
	return nil
}

// truncate shortens a name for a message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
