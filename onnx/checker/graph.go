package checker

import (
	"fmt"
	"strings"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// checkGraph checks g, whose enclosing graphs define the names in parent (nil for a
// top-level graph), and returns the scope of g's own names.
func (ck *checker) checkGraph(c ctx, g *onnxpb.GraphProto, parent *scope) *scope {
	c.node, c.op = "", ""
	if g.GetName() == "" {
		ck.report(c, "name", "a graph must have a name")
	}
	ck.checkMetadata(c, g.GetMetadataProps(), true)
	for _, vi := range g.GetInput() {
		ck.checkValueInfo(c, "input", vi)
	}
	for _, vi := range g.GetOutput() {
		ck.checkValueInfo(c, "output", vi)
	}

	sc := newScope(parent)
	for _, vi := range g.GetInput() {
		name := vi.GetName()
		if name == "" {
			continue // reported by checkValueInfo
		}
		if sc.local(name) {
			ck.report(c, fmt.Sprintf("input %q", name), "is listed more than once (graphs must be in SSA form)")
		} else if parent.visible(name) {
			// onnx's checker accepts this (a TODO there); the IR spec forbids shadowing.
			ck.warn(c, fmt.Sprintf("input %q", name), "shadows a value of an enclosing graph")
		}
		sc.add(name)
	}

	inits := map[string]bool{}
	for i, t := range g.GetInitializer() {
		name := t.GetName()
		field := fmt.Sprintf("initializer %q", name)
		if name == "" {
			field = fmt.Sprintf("initializer #%d", i)
			ck.report(c, field, "has no name")
		} else if inits[name] {
			ck.report(c, field, "is listed more than once")
		}
		ck.checkTensor(c, field, t)
		if name == "" || inits[name] {
			continue
		}
		inits[name] = true
		if ck.ir >= 1 && ck.ir <= 3 {
			if !sc.local(name) {
				ck.report(c, field, "is not a graph input; for IR version <= 3 every initializer must also be a graph input")
			}
			continue
		}
		if !sc.local(name) && parent.visible(name) {
			ck.report(c, field, "redefines a value of an enclosing graph")
		}
		sc.add(name)
	}
	for i, st := range g.GetSparseInitializer() {
		name := st.GetValues().GetName()
		field := fmt.Sprintf("sparse_initializer %q", name)
		if name == "" {
			field = fmt.Sprintf("sparse_initializer #%d", i)
			ck.report(c, field, "has no name (the name of its values tensor)")
		} else if inits[name] {
			ck.report(c, field, "has the name of another initializer")
		}
		ck.checkSparseTensor(c, field, st)
		if name != "" && !inits[name] {
			inits[name] = true
			sc.add(name)
		}
	}

	ck.checkNodes(c, g.GetNode(), sc)

	for _, vi := range g.GetOutput() {
		name := vi.GetName()
		if name == "" {
			continue
		}
		if !sc.local(name) && (c.main || !sc.visible(name)) {
			ck.report(c, fmt.Sprintf("output %q", name), "is not produced by any node, graph input or initializer")
		}
	}

	seen := map[string]bool{}
	for i, vi := range g.GetValueInfo() {
		name := vi.GetName()
		switch {
		case name == "":
			ck.report(c, fmt.Sprintf("value_info #%d", i), "has no name")
		case seen[name]:
			ck.report(c, fmt.Sprintf("value_info %q", name), "is listed more than once")
		case !sc.visible(name):
			ck.warn(c, fmt.Sprintf("value_info %q", name), "does not name a value of this graph")
		}
		seen[name] = true
	}
	return sc
}

// checkValueInfo checks a graph input or output. Only the main graph must give full
// types: subgraph inputs and outputs may leave them to inference.
func (ck *checker) checkValueInfo(c ctx, kind string, vi *onnxpb.ValueInfoProto) {
	field := fmt.Sprintf("%s %q", kind, vi.GetName())
	if vi.GetName() == "" {
		ck.report(c, kind, "has an empty name")
		return
	}
	if !c.main {
		return
	}
	tp := vi.GetType()
	if tp == nil {
		ck.report(c, field, "has no type (required for the main graph)")
		return
	}
	if msg := typeProblem(tp); msg != "" {
		ck.report(c, field, "%s", msg)
	}
}

// typeProblem describes what a main-graph input or output type lacks, or returns "".
func typeProblem(tp *onnxpb.TypeProto) string {
	switch v := tp.GetValue().(type) {
	case *onnxpb.TypeProto_TensorType:
		t := v.TensorType
		if t.ElemType == nil || t.GetElemType() == 0 {
			return "tensor type has no elem_type"
		}
		if t.Shape == nil {
			return "tensor type has no shape (the main graph's inputs and outputs need at least a rank)"
		}
	case *onnxpb.TypeProto_SparseTensorType:
		t := v.SparseTensorType
		if t.ElemType == nil || t.GetElemType() == 0 {
			return "sparse tensor type has no elem_type"
		}
		if t.Shape == nil {
			return "sparse tensor type has no shape"
		}
	case *onnxpb.TypeProto_SequenceType:
		if v.SequenceType.GetElemType() == nil {
			return "sequence type has no elem_type"
		}
	case *onnxpb.TypeProto_MapType:
		if v.MapType.KeyType == nil || v.MapType.GetValueType() == nil {
			return "map type needs key_type and value_type"
		}
	case *onnxpb.TypeProto_OptionalType:
		if v.OptionalType.GetElemType() == nil {
			return "optional type has no elem_type"
		}
	case *onnxpb.TypeProto_OpaqueType:
	default:
		return "type has no value (tensor_type, sequence_type, ...)"
	}
	return ""
}

// checkNodes checks a node list in order, adding node outputs to sc. Inputs must be
// defined by then: nodes are topologically sorted. Dependency cycles are found first so
// that they are reported once, as cycles, rather than as ordering problems.
func (ck *checker) checkNodes(c ctx, nodes []*onnxpb.NodeProto, sc *scope) {
	producer := map[string]int{}
	for i, n := range nodes {
		for _, out := range n.GetOutput() {
			if _, ok := producer[out]; !ok && out != "" {
				producer[out] = i
			}
		}
	}
	deps := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.GetInput() {
			if p, ok := producer[in]; ok {
				deps[i] = append(deps[i], p)
			}
		}
		deps[i] = append(deps[i], ck.subgraphReads[n]...)
	}
	comp, cycles := findCycles(deps)
	for _, cyc := range cycles {
		parts := make([]string, 0, len(cyc)+1)
		for _, i := range append(cyc, cyc[0]) {
			parts = append(parts, nodeLabel(i, nodes[i]))
		}
		ck.report(c, "", "nodes form a cycle: %s", strings.Join(parts, " -> "))
	}

	names := map[string]int{}
	for i, n := range nodes {
		nc := nodeCtx(c, i, n)
		if name := n.GetName(); name != "" {
			if first, dup := names[name]; dup {
				// onnx's checker accepts this; names are for diagnostics only.
				ck.warn(nc, "name", "is also the name of node #%d", first)
			} else {
				names[name] = i
			}
		}
		for k, in := range n.GetInput() {
			if in == "" || sc.visible(in) {
				continue
			}
			field := fmt.Sprintf("input %d %q", k, in)
			if p, ok := producer[in]; ok {
				if comp[p] == comp[i] && comp[i] >= 0 {
					continue // part of a reported cycle
				}
				if p == i {
					ck.report(nc, field, "is an output of the same node")
				} else {
					ck.report(nc, field, "is produced by a later node, %s: nodes must be in topological order", nodeLabel(p, nodes[p]))
				}
				continue
			}
			where := "not a graph input, initializer or output of an earlier node"
			if c.fn != nil {
				where = "neither a function input nor an output of an earlier node"
			} else if sc.parent != nil {
				where = "not defined in this graph or an enclosing one"
			}
			ck.report(nc, field, "is %s", where)
		}

		ck.checkNode(nc, n, sc)

		for k, out := range n.GetOutput() {
			if out == "" {
				continue
			}
			field := fmt.Sprintf("output %d %q", k, out)
			switch {
			case sc.local(out):
				ck.report(nc, field, "is already defined in this graph (graphs must be in SSA form)")
			case sc.visible(out):
				ck.report(nc, field, "redefines a value of an enclosing graph (shadowing is not allowed)")
			}
			sc.add(out)
		}
	}
}

func nodeLabel(i int, n *onnxpb.NodeProto) string {
	if n.GetName() != "" {
		return fmt.Sprintf("%s (%s)", n.GetName(), n.GetOpType())
	}
	return fmt.Sprintf("#%d (%s)", i, n.GetOpType())
}

// outerReads finds, for every node holding subgraphs, the nodes of its own graph that its
// subgraphs read (at any depth): hidden dependencies of the node. One walk over the whole
// model resolves each name read in a subgraph to its innermost definition, so the cost is
// linear in the model's size however deeply subgraphs nest. The result maps a node to
// indices into its graph's node list (the first node producing each name, as checkNodes
// numbers them); names defined nowhere are left to checkNodes to report.
func outerReads(m *onnxpb.ModelProto) map[*onnxpb.NodeProto][]int {
	r := &readResolver{defs: map[string][]nameDef{}, deps: map[*onnxpb.NodeProto][]int{}}
	r.graph(m.GetGraph())
	for _, ti := range m.GetTrainingInfo() {
		r.graph(ti.GetInitialization())
		r.graph(ti.GetAlgorithm())
	}
	for _, f := range m.GetFunctions() {
		r.attrs(f.GetAttributeProto())
		r.body(f.GetInput(), f.GetNode(), nil)
	}
	return r.deps
}

type readResolver struct {
	defs map[string][]nameDef // innermost definition last
	path []*onnxpb.NodeProto  // path[d]: the node of the graph at depth d being walked
	deps map[*onnxpb.NodeProto][]int
}

// nameDef is where a name is defined: the depth of its graph and the index of the node
// producing it there (-1 for inputs and initializers).
type nameDef struct{ depth, node int }

func (r *readResolver) graph(g *onnxpb.GraphProto) {
	if g == nil {
		return
	}
	var defined []string
	for _, vi := range g.GetInput() {
		defined = append(defined, vi.GetName())
	}
	for _, t := range g.GetInitializer() {
		defined = append(defined, t.GetName())
	}
	for _, st := range g.GetSparseInitializer() {
		defined = append(defined, st.GetValues().GetName())
	}
	var outputs []string
	for _, vi := range g.GetOutput() {
		outputs = append(outputs, vi.GetName())
	}
	r.body(defined, g.GetNode(), outputs)
}

// body walks one graph or function body: defined are its inputs (and initializers), nodes
// its nodes, and outputs the names it returns, which count as reads.
func (r *readResolver) body(defined []string, nodes []*onnxpb.NodeProto, outputs []string) {
	depth := len(r.path)
	var pushed []string
	push := func(name string, node int) {
		if name == "" {
			return
		}
		r.defs[name] = append(r.defs[name], nameDef{depth, node})
		pushed = append(pushed, name)
	}
	for _, name := range defined {
		push(name, -1)
	}
	first := map[string]bool{}
	for i, n := range nodes {
		for _, out := range n.GetOutput() {
			if out != "" && !first[out] {
				first[out] = true
				push(out, i)
			}
		}
	}
	r.path = append(r.path, nil)
	for _, n := range nodes {
		r.path[depth] = n
		if depth > 0 {
			for _, in := range n.GetInput() {
				r.read(in, depth)
			}
		}
		r.attrs(n.GetAttribute())
	}
	r.path = r.path[:depth]
	if depth > 0 {
		for _, out := range outputs {
			r.read(out, depth)
		}
	}
	for _, name := range pushed {
		d := r.defs[name]
		if len(d) == 1 {
			delete(r.defs, name)
		} else {
			r.defs[name] = d[:len(d)-1]
		}
	}
}

func (r *readResolver) attrs(attrs []*onnxpb.AttributeProto) {
	for _, a := range attrs {
		if g := a.GetG(); g != nil {
			r.graph(g)
		}
		for _, g := range a.GetGraphs() {
			r.graph(g)
		}
	}
}

// read records that the graph at depth reads name: when the name is defined by a node of
// an enclosing graph, the node of that graph holding this subgraph depends on it.
func (r *readResolver) read(name string, depth int) {
	ds := r.defs[name]
	if len(ds) == 0 {
		return
	}
	d := ds[len(ds)-1]
	if d.depth >= depth || d.node < 0 {
		return
	}
	holder := r.path[d.depth]
	r.deps[holder] = append(r.deps[holder], d.node)
}

// findCycles returns, for each node, the id of its strongly connected component when
// that component is cyclic (-1 otherwise), and one cycle (as node indices) per cyclic
// component. deps[i] lists the nodes node i reads from.
func findCycles(deps [][]int) (comp []int, cycles [][]int) {
	n := len(deps)
	comp = make([]int, n)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
		comp[i] = -1
	}
	var stack []int
	next, nComp := 0, 0
	// Tarjan's algorithm, iterative so that deep graphs cannot overflow the stack.
	type frame struct{ v, edge int }
	for root := 0; root < n; root++ {
		if index[root] >= 0 {
			continue
		}
		call := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.edge < len(deps[f.v]) {
				w := deps[f.v][f.edge]
				f.edge++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				u := call[len(call)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] != index[v] {
				continue
			}
			var members []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				members = append(members, w)
				if w == v {
					break
				}
			}
			if len(members) == 1 && !contains(deps[v], v) {
				continue
			}
			for _, w := range members {
				comp[w] = nComp
			}
			cycles = append(cycles, cycleIn(deps, comp, nComp, minOf(members)))
			nComp++
		}
	}
	return comp, cycles
}

// cycleIn returns a cycle through start inside component id, by breadth-first search
// along dependency edges back to start.
func cycleIn(deps [][]int, comp []int, id, start int) []int {
	prev := map[int]int{}
	queue := []int{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range deps[v] {
			if comp[w] != id {
				continue
			}
			if w == start {
				// Edges run from reader to producer, so the search went upstream:
				// start reads ... reads v reads start. In data-flow order that cycle is
				// start -> v -> ... -> start.
				upstream := []int{v}
				for u := v; u != start; {
					u = prev[u]
					upstream = append(upstream, u)
				}
				return append([]int{start}, upstream[:len(upstream)-1]...)
			}
			if _, seen := prev[w]; !seen {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	return []int{start}
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func minOf(xs []int) int {
	m := xs[0]
	for _, x := range xs[1:] {
		m = min(m, x)
	}
	return m
}
