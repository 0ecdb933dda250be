package infer

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir"
)

// Options tune inference.
type Options struct {
	// Strict reports every node whose operator has no inference rule as a Problem, besides
	// listing the operator in Report.Unknown.
	Strict bool
	// DataPropagation tracks the values of small integer tensors computed from shapes
	// (Shape, Gather, Slice, Concat, Unsqueeze, Squeeze, Cast, Add, Sub, Mul, Div, ...) so
	// that shape inputs built from them (Reshape, Expand, ConstantOfShape, ...) are known.
	DataPropagation bool
}

// Problem is one inconsistency found while inferring a node's outputs.
type Problem struct {
	// Node names the node as ir.Node.Describe does.
	Node string
	// Op is the operator, with its domain when not the default one, and the opset version
	// in force ("Conv-11").
	Op string
	// Where names the offending input, output or attribute ("input 1", "attribute axes").
	Where string
	// Message says what is wrong.
	Message string
}

// InternalErrorMessage starts the message of a problem that reports an inference rule
// panicking: a bug in whittle, not in the model.
const InternalErrorMessage = "internal error in shape inference (a bug in whittle; please report it with the model)"

func (p Problem) String() string {
	return fmt.Sprintf("%s [%s] %s: %s", p.Node, p.Op, p.Where, p.Message)
}

// Report is what inference found besides the types it set.
type Report struct {
	// Problems lists contradictions between inputs, attributes and declared types.
	Problems []Problem
	// Unknown lists, sorted and once each, the operators ("Op" or "domain::Op") that have
	// no inference rule; their outputs keep whatever type they had.
	Unknown []string
}

// Model infers the types of every value in m's graphs (the main graph and every If, Loop and
// Scan body, in node order) and merges them into Value.Type. It fails only when m has no
// graph; contradictions are reported in Report.Problems.
func Model(m *ir.Model, opts Options) (Report, error) {
	if m == nil || m.Graph == nil {
		return Report{}, errors.New("infer: model has no graph")
	}
	e := newEngine(m, opts)
	e.graph(m.Graph, m.OpsetImports)
	for _, f := range m.Functions {
		// Function bodies have untyped formal inputs: walking them still types whatever
		// follows from constants, and finds operators without rules.
		if f.Body != nil {
			e.graph(f.Body, f.OpsetImports)
		}
	}
	for op := range e.unknown {
		e.report.Unknown = append(e.report.Unknown, op)
	}
	sort.Strings(e.report.Unknown)
	return e.report, nil
}

// engine holds the state of one inference run.
type engine struct {
	opts    Options
	report  Report
	unknown map[string]bool
	// consts holds the tensors of Constant node outputs (initializers carry their own).
	consts map[*ir.Value]*ir.Tensor
	// data holds the element values of small integer tensors found by data propagation;
	// each element is a dimension, so that sizes read by Shape stay symbolic.
	data map[*ir.Value][]val
	// symbols are the dimension names in use, so that fresh names never collide.
	symbols map[string]bool
	nextSym int
	walked  map[*ir.Graph]bool
}

func newEngine(m *ir.Model, opts Options) *engine {
	e := &engine{
		opts:    opts,
		unknown: map[string]bool{},
		consts:  map[*ir.Value]*ir.Tensor{},
		data:    map[*ir.Value][]val{},
		symbols: map[string]bool{},
		walked:  map[*ir.Graph]bool{},
	}
	note := func(t *ir.Type) {
		for ; t != nil; t = t.Inner {
			for _, d := range t.Dims {
				if d.Param != "" {
					e.symbols[d.Param] = true
				}
			}
		}
	}
	for _, g := range m.Graphs() {
		for _, v := range g.Inputs {
			note(v.Type)
		}
		for _, v := range g.Outputs {
			note(v.Type)
		}
		for _, n := range g.Nodes() {
			for _, v := range n.Outputs() {
				if v != nil {
					note(v.Type)
				}
			}
		}
	}
	return e
}

// freshDim returns a new symbolic dimension "unk__k" not used anywhere in the model.
func (e *engine) freshDim() ir.Dim {
	for {
		name := "unk__" + strconv.Itoa(e.nextSym)
		e.nextSym++
		if !e.symbols[name] {
			e.symbols[name] = true
			return ir.Symbolic(name)
		}
	}
}

// graph infers the nodes of g in order. opsets are the imports in force for g's nodes.
func (e *engine) graph(g *ir.Graph, opsets []ir.OpsetID) {
	if g == nil || e.walked[g] {
		return
	}
	e.walked[g] = true
	for _, n := range g.Nodes() {
		e.node(n, opsets)
	}
}

func opKey(domain, op string) string {
	if domain = ir.CanonicalDomain(domain); domain != "" {
		return domain + "::" + op
	}
	return op
}

func (e *engine) node(n *ir.Node, opsets []ir.OpsetID) {
	key := opKey(n.Domain, n.OpType)
	version := opsetOf(opsets, n.Domain)
	c := &ctx{e: e, n: n, opset: version, opsets: opsets}
	// A rule that panics on a hostile node is a bug, but must not take down the program
	// reading the model: it becomes a problem of that node.
	defer func() {
		if r := recover(); r != nil {
			c.problem("", "%s: %v", InternalErrorMessage, r)
		}
	}()
	if r, ok := rules[key]; ok {
		r(c)
		if e.opts.DataPropagation {
			if p, ok := propagators[key]; ok {
				p(c)
			}
		}
	} else {
		e.unknown[key] = true
		if e.opts.Strict {
			c.problem("op", "no shape inference rule for %s", key)
		}
	}
	// Bodies the rule did not walk (unknown ops, or ops whose rule needs nothing from
	// them) are still walked so that their own nodes get types.
	for _, sub := range n.Subgraphs() {
		e.graph(sub, opsets)
	}
}

func opsetOf(opsets []ir.OpsetID, domain string) int64 {
	domain = ir.CanonicalDomain(domain)
	for _, o := range opsets {
		if ir.CanonicalDomain(o.Domain) == domain {
			return o.Version
		}
	}
	return 0
}

// mergeType combines a declared type with an inferred one. It returns the merged type and,
// when they contradict each other, a description of the contradiction (the declared type is
// then kept as it was).
func mergeType(declared, inferred *ir.Type) (*ir.Type, string) {
	if inferred == nil {
		return declared, ""
	}
	if declared == nil || declared.Kind == ir.NoKind {
		return inferred.Clone(), ""
	}
	if inferred.Kind == ir.NoKind {
		return declared, ""
	}
	if declared.Kind != inferred.Kind {
		return declared, fmt.Sprintf("declared type %s, inferred %s", declared, inferred)
	}
	merged := declared.Clone()
	switch declared.Kind {
	case ir.TensorKind, ir.SparseTensorKind:
		if declared.Elem != ir.Undefined && inferred.Elem != ir.Undefined && declared.Elem != inferred.Elem {
			return declared, fmt.Sprintf("declared element type %s, inferred %s", declared.Elem, inferred.Elem)
		}
		if merged.Elem == ir.Undefined {
			merged.Elem = inferred.Elem
		}
		if !inferred.HasShape {
			return merged, ""
		}
		if !declared.HasShape {
			merged.Dims = append([]ir.Dim(nil), inferred.Dims...)
			merged.HasShape = true
			return merged, ""
		}
		if len(declared.Dims) != len(inferred.Dims) {
			return declared, fmt.Sprintf("declared rank %d (%s), inferred rank %d (%s)", len(declared.Dims), declared, len(inferred.Dims), inferred)
		}
		for i, d := range declared.Dims {
			in := inferred.Dims[i]
			switch {
			case d.IsKnown() && in.IsKnown():
				if d.Value != in.Value {
					return declared, fmt.Sprintf("declared %s, inferred %s (dimension %d)", declared, inferred, i)
				}
			case in.IsKnown():
				merged.Dims[i] = ir.Dim{Value: in.Value, Denotation: d.Denotation}
			case !d.IsKnown() && d.Param == "" && in.Param != "":
				merged.Dims[i] = ir.Dim{Value: -1, Param: in.Param, Denotation: d.Denotation}
			}
		}
		return merged, ""
	case ir.SequenceKind, ir.OptionalKind:
		inner, conflict := mergeType(declared.Inner, inferred.Inner)
		if conflict != "" {
			return declared, conflict
		}
		merged.Inner = inner
		return merged, ""
	case ir.MapKind:
		if declared.Elem != inferred.Elem && declared.Elem != ir.Undefined && inferred.Elem != ir.Undefined {
			return declared, fmt.Sprintf("declared %s, inferred %s", declared, inferred)
		}
		inner, conflict := mergeType(declared.Inner, inferred.Inner)
		if conflict != "" {
			return declared, conflict
		}
		merged.Inner = inner
		return merged, ""
	}
	return merged, ""
}

// describeOp renders a node's operator with its version for problem reports.
func describeOp(n *ir.Node, version int64) string {
	var b strings.Builder
	b.WriteString(opKey(n.Domain, n.OpType))
	if version > 0 {
		b.WriteString("-")
		b.WriteString(strconv.FormatInt(version, 10))
	}
	return b.String()
}
