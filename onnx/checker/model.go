package checker

import (
	"fmt"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/opschema"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// MaxIRVersion is the newest IR version the checker (and onnx.proto) knows.
const MaxIRVersion = int64(onnxpb.Version_IR_VERSION)

// CheckModel checks m and returns every problem found, in model order; nil when m is valid.
// It never modifies m and never panics on malformed input.
func CheckModel(m *onnxpb.ModelProto, opts Options) []Problem {
	ck := &checker{opts: opts}
	if m == nil {
		ck.report(ctx{}, "", "model is nil")
		return ck.problems
	}
	ck.checkModel(m)
	return ck.problems
}

// checker accumulates problems while walking one model.
type checker struct {
	opts      Options
	ir        int64
	problems  []Problem
	functions map[funcKey]*onnxpb.FunctionProto
	// subgraphReads: for each node with subgraphs, the nodes of its graph they read.
	subgraphReads map[*onnxpb.NodeProto][]int
}

type funcKey struct{ domain, name, overload string }

// ctx is where the walk stands: the path for messages and the rules in force there.
type ctx struct {
	at       *pathElem
	node, op string
	main     bool                  // the top-level graph: inputs and outputs need full types
	fn       *onnxpb.FunctionProto // the enclosing function body, if any
	opsets   map[string]int64      // imported operator sets, domains normalized
}

// pathElem is one element of a problem's path, chained to the elements enclosing it. The
// path is rendered only when a problem is reported: building it as a string at every
// level would cost time and memory quadratic in the nesting depth of subgraphs.
type pathElem struct {
	parent *pathElem
	text   string
	depth  int
}

func (c ctx) in(elem string) ctx {
	depth := 0
	if c.at != nil {
		depth = c.at.depth + 1
	}
	c.at = &pathElem{parent: c.at, text: elem, depth: depth}
	return c
}

// maxPathElems bounds a rendered path: deeper paths keep their outermost and innermost
// elements, so that a problem deep in nested subgraphs has a message of bounded size.
const maxPathElems = 16

func (c ctx) path() string {
	if c.at == nil {
		return ""
	}
	n := c.at.depth + 1
	inner := min(n, maxPathElems/2)
	outer := min(n-inner, maxPathElems/2)
	elided := n - inner - outer
	parts := make([]string, 0, inner+outer+1)
	e := c.at
	for i := 0; i < inner; i++ {
		parts = append(parts, e.text)
		e = e.parent
	}
	if elided > 0 {
		parts = append(parts, fmt.Sprintf("... (%d more) ...", elided))
		for i := 0; i < elided; i++ {
			e = e.parent
		}
	}
	for ; e != nil; e = e.parent {
		parts = append(parts, e.text)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, " / ")
}

func (ck *checker) report(c ctx, field, format string, args ...any) {
	ck.problems = append(ck.problems, Problem{Path: c.path(), Node: c.node, Op: c.op, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (ck *checker) warn(c ctx, field, format string, args ...any) {
	if !ck.opts.Warnings {
		return
	}
	ck.problems = append(ck.problems, Problem{Path: c.path(), Node: c.node, Op: c.op, Field: field, Msg: fmt.Sprintf(format, args...), Warning: true})
}

func (ck *checker) checkModel(m *onnxpb.ModelProto) {
	top := ctx{}.in("model")
	switch {
	case m.IrVersion == nil || m.GetIrVersion() == 0:
		ck.report(top, "ir_version", "is not set")
	case m.GetIrVersion() < 1 || m.GetIrVersion() > MaxIRVersion:
		ck.report(top, "ir_version", "%d is outside the supported range [1, %d]", m.GetIrVersion(), MaxIRVersion)
	}
	ck.ir = m.GetIrVersion()

	ck.checkMetadata(top, m.GetMetadataProps(), false)
	opsets := ck.checkOpsetImports(top, m.GetOpsetImport(), "opset_import")
	// The default domain need not be imported when no node uses it (onnx's own ML and
	// training tests import only ai.onnx.ml or ai.onnx.preview.training); a node of an
	// unimported domain is reported where it stands.
	switch {
	case ck.ir >= 3 && len(m.GetOpsetImport()) == 0:
		ck.report(top, "opset_import", "is required for IR version >= 3")
	case ck.ir >= 3:
	case len(m.GetOpsetImport()) > 0:
		ck.report(top, "opset_import", "must be absent for IR version < 3")
	default:
		opsets[""] = 1 // IR < 3 models implicitly use opset 1.
	}

	ck.subgraphReads = outerReads(m)
	ck.functions = map[funcKey]*onnxpb.FunctionProto{}
	for _, f := range m.GetFunctions() {
		k := funcKey{f.GetDomain(), f.GetName(), f.GetOverload()}
		if _, dup := ck.functions[k]; !dup {
			ck.functions[k] = f
		}
	}

	main := ctx{main: true, opsets: opsets}.in("graph " + m.GetGraph().GetName())
	var mainScope *scope
	if m.Graph == nil {
		ck.report(top, "graph", "is missing")
	} else {
		mainScope = ck.checkGraph(main, m.GetGraph(), nil)
	}
	ck.checkTrainingInfo(top, m, opsets, mainScope)
	ck.checkFunctions(top, m.GetFunctions(), opsets)
}

// checkOpsetImports reports duplicate domains and bad versions and returns the imports
// as a map, with "ai.onnx" normalized to "".
func (ck *checker) checkOpsetImports(c ctx, imports []*onnxpb.OperatorSetIdProto, field string) map[string]int64 {
	opsets := map[string]int64{}
	for _, imp := range imports {
		domain := ir.CanonicalDomain(imp.GetDomain())
		if _, dup := opsets[domain]; dup {
			ck.report(c, field, "domain %q is imported more than once", imp.GetDomain())
			continue
		}
		if imp.GetVersion() < 1 {
			ck.report(c, field, "domain %q has version %d; versions start at 1", imp.GetDomain(), imp.GetVersion())
		}
		opsets[domain] = imp.GetVersion()
	}
	return opsets
}

// checkMetadata reports duplicate keys: an error at model level (as onnx's checker), a
// recommendation elsewhere.
func (ck *checker) checkMetadata(c ctx, props []*onnxpb.StringStringEntryProto, warnOnly bool) {
	seen := map[string]bool{}
	for _, p := range props {
		if seen[p.GetKey()] {
			if warnOnly {
				ck.warn(c, "metadata_props", "key %q appears more than once", p.GetKey())
			} else {
				ck.report(c, "metadata_props", "key %q appears more than once", p.GetKey())
			}
		}
		seen[p.GetKey()] = true
	}
}

// checkTrainingInfo checks each TrainingInfoProto: the initialization graph stands alone,
// the algorithm graph extends the inference graph (it sees its names and must not redefine
// them), and bindings map initializers to outputs of the matching graph.
func (ck *checker) checkTrainingInfo(top ctx, m *onnxpb.ModelProto, opsets map[string]int64, mainScope *scope) {
	mainInits := map[string]bool{}
	for _, t := range m.GetGraph().GetInitializer() {
		mainInits[t.GetName()] = true
	}
	for i, ti := range m.GetTrainingInfo() {
		c := top.in(fmt.Sprintf("training_info[%d]", i))
		algoInits := map[string]bool{}
		for _, t := range ti.GetAlgorithm().GetInitializer() {
			algoInits[t.GetName()] = true
		}
		if g := ti.GetInitialization(); g != nil && !isEmptyGraph(g) {
			ck.checkGraph(ctx{at: c.at, opsets: opsets}.in("initialization graph "+g.GetName()), g, nil)
		}
		if g := ti.GetAlgorithm(); g != nil && !isEmptyGraph(g) {
			algo := ck.checkGraph(ctx{at: c.at, opsets: opsets}.in("algorithm graph "+g.GetName()), g, mainScope)
			algo.close()
		}
		if len(ti.GetInitializationBinding()) > 0 && ti.GetInitialization() == nil {
			ck.report(c, "initialization_binding", "is set but there is no initialization graph")
		}
		ck.checkBindings(c, "initialization_binding", ti.GetInitializationBinding(), mainInits, algoInits, ti.GetInitialization())
		ck.checkBindings(c, "update_binding", ti.GetUpdateBinding(), mainInits, algoInits, ti.GetAlgorithm())
	}
}

func (ck *checker) checkBindings(c ctx, field string, bindings []*onnxpb.StringStringEntryProto, mainInits, algoInits map[string]bool, g *onnxpb.GraphProto) {
	outputs := map[string]bool{}
	for _, o := range g.GetOutput() {
		outputs[o.GetName()] = true
	}
	seen := map[string]bool{}
	for _, b := range bindings {
		k, v := b.GetKey(), b.GetValue()
		if seen[k] {
			ck.report(c, field, "key %q is bound more than once", k)
		}
		seen[k] = true
		if !mainInits[k] && !algoInits[k] {
			ck.report(c, field, "key %q is not an initializer of the inference or algorithm graph", k)
		}
		if !outputs[v] {
			ck.report(c, field, "value %q (bound to %q) is not an output of the graph", v, k)
		}
	}
}

// isEmptyGraph reports a default (empty) training graph, which the spec allows unnamed.
func isEmptyGraph(g *onnxpb.GraphProto) bool {
	return g.GetName() == "" && len(g.GetNode()) == 0 && len(g.GetInput()) == 0 && len(g.GetOutput()) == 0 && len(g.GetInitializer()) == 0
}

// checkFunctions checks the model-local functions. As in onnx's checker, a domain a
// function imports but the model does not is added to the model's view, so that two
// functions importing it must agree.
func (ck *checker) checkFunctions(top ctx, fns []*onnxpb.FunctionProto, modelOpsets map[string]int64) {
	combined := map[string]int64{}
	for d, v := range modelOpsets {
		combined[d] = v
	}
	for _, f := range fns {
		for _, imp := range f.GetOpsetImport() {
			d := ir.CanonicalDomain(imp.GetDomain())
			if _, ok := combined[d]; !ok {
				combined[d] = imp.GetVersion()
			}
		}
	}
	seen := map[funcKey]bool{}
	for i, f := range fns {
		id := f.GetName()
		if f.GetDomain() != "" {
			id = f.GetDomain() + "." + id
		}
		if f.GetOverload() != "" {
			id += ":" + f.GetOverload()
		}
		c := top.in("function " + id)
		if f.GetName() == "" {
			c = top.in(fmt.Sprintf("function #%d", i))
			ck.report(c, "name", "is empty")
		}
		if ck.ir >= 8 && f.Domain == nil {
			ck.report(c, "domain", "is required for IR version >= 8")
		}
		k := funcKey{f.GetDomain(), f.GetName(), f.GetOverload()}
		if seen[k] {
			ck.report(c, "", "function (domain %q, name %q, overload %q) is defined more than once", k.domain, k.name, k.overload)
		}
		seen[k] = true
		ck.checkMetadata(c, f.GetMetadataProps(), true)
		ck.checkFunction(c, f, combined)
	}
	ck.checkRecursion(top, fns)
}

// checkRecursion reports a function that calls itself, directly or through others (in its
// body or its body's subgraphs): a function's meaning is its body expanded where it is
// called, which never ends for a recursive one. One walk over every body, then one
// depth-first search over the calls, without recursion (a model may chain many functions).
func (ck *checker) checkRecursion(top ctx, fns []*onnxpb.FunctionProto) {
	index := map[funcKey]int{}
	for i, f := range fns {
		k := funcKey{f.GetDomain(), f.GetName(), f.GetOverload()}
		if _, dup := index[k]; !dup {
			index[k] = i
		}
	}
	calls := make([][]int, len(fns))
	for i, f := range fns {
		nodes := append([]*onnxpb.NodeProto(nil), f.GetNode()...)
		for len(nodes) > 0 {
			n := nodes[len(nodes)-1]
			nodes = nodes[:len(nodes)-1]
			if j, ok := index[funcKey{n.GetDomain(), n.GetOpType(), n.GetOverload()}]; ok {
				calls[i] = append(calls[i], j)
			}
			for _, a := range n.GetAttribute() {
				nodes = append(nodes, a.GetG().GetNode()...)
				for _, g := range a.GetGraphs() {
					nodes = append(nodes, g.GetNode()...)
				}
			}
		}
	}
	const (
		unvisited = iota
		onPath
		done
	)
	state := make([]int, len(fns))
	type frame struct{ fn, next int }
	for root := range fns {
		if state[root] != unvisited {
			continue
		}
		path := []frame{{root, 0}}
		state[root] = onPath
		for len(path) > 0 {
			top1 := &path[len(path)-1]
			if top1.next == len(calls[top1.fn]) {
				state[top1.fn] = done
				path = path[:len(path)-1]
				continue
			}
			callee := calls[top1.fn][top1.next]
			top1.next++
			switch state[callee] {
			case unvisited:
				state[callee] = onPath
				path = append(path, frame{callee, 0})
			case onPath:
				var names []string
				start := 0
				for start < len(path) && path[start].fn != callee {
					start++
				}
				for _, fr := range path[start:] {
					names = append(names, fns[fr.fn].GetName())
				}
				names = append(names, fns[callee].GetName())
				if len(names) > 8 {
					names = append(append(names[:4:4], "..."), names[len(names)-3:]...)
				}
				ck.report(top.in("function "+fns[callee].GetName()), "", "calls itself (%s): recursive functions cannot be expanded where they are called",
					strings.Join(names, " -> "))
			}
		}
	}
}

func (ck *checker) checkFunction(c ctx, f *onnxpb.FunctionProto, modelOpsets map[string]int64) {
	c.fn = f
	c.opsets = ck.checkOpsetImports(c, f.GetOpsetImport(), "opset_import")
	c.main = false

	sc := newScope(nil)
	for _, in := range f.GetInput() {
		if in == "" {
			ck.report(c, "input", "a function input name is empty")
			continue
		}
		if sc.local(in) {
			ck.report(c, fmt.Sprintf("input %q", in), "is listed more than once")
		}
		sc.add(in)
	}
	outs := map[string]bool{}
	for _, out := range f.GetOutput() {
		if outs[out] {
			ck.report(c, fmt.Sprintf("output %q", out), "is listed more than once")
		}
		outs[out] = true
	}
	attrs := map[string]bool{}
	for _, a := range f.GetAttribute() {
		if attrs[a] {
			ck.report(c, fmt.Sprintf("attribute %q", a), "is listed more than once")
		}
		attrs[a] = true
	}
	for _, a := range f.GetAttributeProto() {
		// Default values: checked like node attributes, outside the body's scope.
		defaults := c
		defaults.fn = nil
		ck.checkAttribute(defaults, a, nil)
		if attrs[a.GetName()] {
			ck.report(c, fmt.Sprintf("attribute %q", a.GetName()), "is listed more than once (attribute and attribute_proto names must be distinct)")
		}
		attrs[a.GetName()] = true
	}

	// A node's operator must resolve to the same version under the function's imports as
	// under the model's: the function body is inlined into the model.
	for i, n := range f.GetNode() {
		domain := ir.CanonicalDomain(n.GetDomain())
		fv, fok := c.opsets[domain]
		mv, mok := modelOpsets[domain]
		if !fok || !mok || fv == mv || !opschema.HasDomain(domain) {
			continue
		}
		fs, _ := opschema.Lookup(domain, n.GetOpType(), fv)
		ms, _ := opschema.Lookup(domain, n.GetOpType(), mv)
		if fs == nil && ms == nil {
			continue
		}
		if fs == nil || ms == nil || fs.SinceVersion != ms.SinceVersion {
			nc := nodeCtx(c, i, n)
			ck.report(nc, "domain", "the function imports %q version %d but the model imports version %d, which selects a different version of %s",
				n.GetDomain(), fv, mv, n.GetOpType())
		}
	}

	ck.checkNodes(c, f.GetNode(), sc)
	for _, out := range f.GetOutput() {
		if out != "" && !sc.visible(out) {
			ck.report(c, fmt.Sprintf("output %q", out), "is not produced by any node or function input")
		}
	}
}

// nodeCtx returns the context of the i-th node n of a graph or function at c.
func nodeCtx(c ctx, i int, n *onnxpb.NodeProto) ctx {
	label := n.GetName()
	if label == "" {
		label = fmt.Sprintf("#%d", i)
	}
	op := n.GetOpType()
	if n.GetDomain() != "" {
		op = n.GetDomain() + "." + op
	}
	c = c.in(fmt.Sprintf("node %s (%s)", label, op))
	c.node, c.op = n.GetName(), n.GetOpType()
	return c
}

// scope is the set of value names defined in a graph, chained to the scopes of its
// enclosing graphs. All scopes of one tree share a count of the open definitions of each
// name, so that a lookup costs one map access however deep the nesting: a subgraph's scope
// must be closed (see close) before its enclosing graph defines more names or a sibling
// subgraph is opened, which is the order in which the checker walks a model.
type scope struct {
	parent *scope
	names  map[string]bool
	open   map[string]int // shared by the whole tree: definitions in open scopes
}

func newScope(parent *scope) *scope {
	s := &scope{parent: parent, names: map[string]bool{}}
	if parent != nil {
		s.open = parent.open
	} else {
		s.open = map[string]int{}
	}
	return s
}

func (s *scope) add(name string) {
	if !s.names[name] {
		s.names[name] = true
		s.open[name]++
	}
}

func (s *scope) local(name string) bool { return s.names[name] }

// visible reports whether name is defined in s or an enclosing scope. Called on a parent
// while a child is open, it also sees the child's names; the checker asks a parent only
// about names the child has not defined.
func (s *scope) visible(name string) bool {
	return s != nil && s.open[name] > 0
}

// close takes s's names out of the shared count once its graph has been checked.
func (s *scope) close() {
	if s == nil {
		return
	}
	for name := range s.names {
		if s.open[name]--; s.open[name] == 0 {
			delete(s.open, name)
		}
	}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func joinQuoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}
