package runtime

import (
	"errors"
	"fmt"
	"sync"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/ops/tensor"
)

// A program is a compiled graph: the main graph of a session or the body of a control-flow
// node. Every value the graph touches has a dense slot; at run time a Scope holds one
// tensor per slot, so running never looks anything up by name.
type program struct {
	graph   *ir.Graph
	nSlots  int
	names   []string // value name per slot (for Intermediates and error messages)
	inputs  []int    // slot of each graph input, in order
	outputs []int    // slot of each graph output, in order
	consts  []constSlot
	// depth is the nesting level of the graph (0 for the main graph); outer lists the slots
	// that hold values of enclosing graphs, and where they come from.
	depth   int
	outer   []outerRef
	steps   []step
	keepAll bool // Options.Intermediates: never free a value, so all can be returned
	// internal marks slots of values the preparation stage made (no value of the caller's
	// graph has their name): Intermediates does not return them.
	internal []bool
	maxArity int
	frames   sync.Pool // *Scope
}

type constSlot struct {
	slot int
	t    *kernel.Tensor
}

// outerRef copies slot of the enclosing scope at nesting level depth into local: a value
// is fetched from the graph defining it, not forwarded through every level between.
type outerRef struct{ local, depth, slot int }

// step runs one node.
type step struct {
	node *ir.Node
	// origin is the node of the caller's graph whose outputs this step computes, and
	// nodeIndex its position in that graph's node list (what Options.Observer reports);
	// origin is nil for steps of nodes the preparation stage made that compute no
	// original node's outputs as such.
	origin    *ir.Node
	nodeIndex int
	kernel    kernel.Kernel
	in        []int // slot per input; -1 for an omitted one
	out       []int // slot per output; -1 for an omitted one
	// reads lists every slot the step reads: its inputs and the values of this graph its
	// subgraphs read. Liveness ends at the last reader, and a kernel returning a view pins
	// all of them (see pool.go).
	reads []int
	// free lists the slots whose last reader is this step (or that nobody reads).
	free []int
}

// builder compiles one graph into a program; builders of subgraphs point at the builder
// of the enclosing graph, which supplies outer values.
type builder struct {
	model  *ir.Model
	opts   *Options
	prog   *program
	parent *builder
	slotOf map[*ir.Value]int
	consts map[int]*kernel.Tensor
	tree   *buildTree
	// pending collects the slots of this graph that programs compiled while adding the
	// current node read from here (including graphs a kernel builds itself, such as
	// Gradient's forward graph): the node keeps them alive.
	pending []int
}

// buildTree is what the builders of one session share.
type buildTree struct {
	// open maps each graph being compiled to its builder: the enclosing graphs of the
	// graph compiled last, so that an outer value's slot is found in one lookup.
	open map[*ir.Graph]*builder
	// subReads lists, per node holding subgraphs, the values of its graph they read.
	subReads map[*ir.Node][]*ir.Value
}

// MissingKernelError reports a node for which no kernel is registered.
type MissingKernelError struct {
	Op, Domain string
	Opset      int64
	Node       string // the node's Describe()
	Err        error
}

func (e *MissingKernelError) Error() string {
	return fmt.Sprintf("%s: no kernel for op %s (domain %s, opset %d): %v", e.Node, e.Op, ir.DomainName(e.Domain), e.Opset, e.Err)
}

func (e *MissingKernelError) Unwrap() error { return e.Err }

func compileGraph(m *ir.Model, opts *Options, g *ir.Graph, parent *builder) (*program, error) {
	b := &builder{
		model: m, opts: opts, parent: parent,
		prog:   &program{graph: g},
		slotOf: map[*ir.Value]int{},
		consts: map[int]*kernel.Tensor{},
	}
	if parent == nil {
		b.tree = &buildTree{open: map[*ir.Graph]*builder{}, subReads: ir.SubgraphReads(g)}
	} else {
		b.tree = parent.tree
		b.prog.depth = parent.prog.depth + 1
	}
	if b.tree.open[g] != nil {
		return nil, fmt.Errorf("graph %q is nested inside itself", g.Name)
	}
	b.tree.open[g] = b
	defer delete(b.tree.open, g)
	var errs []error
	for _, v := range g.Inputs {
		b.prog.inputs = append(b.prog.inputs, b.local(v))
	}
	for _, v := range g.Initializers {
		t, err := constOfValue(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("graph %q: initializer %q: %w", g.Name, v.Name, err))
			continue
		}
		s := b.local(v)
		b.consts[s] = t
	}
	nodes, err := g.TopologicalOrderWith(b.tree.subReads)
	if err != nil {
		errs = append(errs, err)
	}
	index := map[*ir.Node]int{}
	for i, n := range g.Nodes() {
		index[n] = i
	}
	for _, n := range nodes {
		if err := b.addNode(n, index[n]); err != nil {
			errs = append(errs, err)
		}
	}
	for _, v := range g.Outputs {
		s, err := b.slot(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("graph %q: output %q: %w", g.Name, v.Name, err))
			continue
		}
		b.prog.outputs = append(b.prog.outputs, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for s, t := range b.consts {
		b.prog.consts = append(b.prog.consts, constSlot{s, t})
	}
	b.prog.keepAll = parent == nil && opts.Intermediates
	b.prog.planLiveness()
	return b.prog, nil
}

// local gives a value defined in this graph its slot.
func (b *builder) local(v *ir.Value) int {
	if s, ok := b.slotOf[v]; ok {
		return s
	}
	s := b.prog.nSlots
	b.prog.nSlots++
	b.prog.names = append(b.prog.names, v.Name)
	b.slotOf[v] = s
	return s
}

// slot finds the slot of a value read here: one of this graph, or one of an enclosing
// graph, which gets a local slot filled from the enclosing scope when the program starts.
func (b *builder) slot(v *ir.Value) (int, error) {
	if s, ok := b.slotOf[v]; ok {
		return s, nil
	}
	if v.Graph() == b.prog.graph {
		if v.Producer() == nil && !v.IsConst() && !v.IsGraphInput() {
			return 0, fmt.Errorf("value %q has no producer", v.Name)
		}
		return b.local(v), nil
	}
	owner := b.tree.open[v.Graph()]
	if owner == nil {
		return 0, fmt.Errorf("value %q is not defined in graph %q or an enclosing graph", v.Name, b.prog.graph.Name)
	}
	ps, err := owner.slot(v)
	if err != nil {
		return 0, err
	}
	owner.pending = append(owner.pending, ps)
	s := b.local(v)
	b.prog.outer = append(b.prog.outer, outerRef{local: s, depth: owner.prog.depth, slot: ps})
	return s, nil
}

func (b *builder) addNode(n *ir.Node, nodeIndex int) error {
	if n.OpType == "Constant" && ir.IsDefaultDomain(n.Domain) {
		t, err := tensor.ConstantValue(n)
		if err != nil {
			return fmt.Errorf("%s: %w", n.Describe(), err)
		}
		if out := n.Output(0); out != nil {
			b.consts[b.local(out)] = t
		}
		return nil
	}
	st := step{node: n, origin: n, nodeIndex: nodeIndex}
	b.pending = b.pending[:0]
	info := &kernel.NodeInfo{Node: n}
	var firstType ir.DataType
	sawFirst := false
	for i, v := range n.Inputs() {
		if v == nil {
			st.in = append(st.in, -1)
			info.InputTypes = append(info.InputTypes, nil)
			info.Consts = append(info.Consts, nil)
			continue
		}
		s, err := b.slot(v)
		if err != nil {
			return fmt.Errorf("%s: input %d: %w", n.Describe(), i, err)
		}
		st.in = append(st.in, s)
		st.reads = append(st.reads, s)
		info.InputTypes = append(info.InputTypes, v.Type)
		info.Consts = append(info.Consts, b.consts[s])
		// Kernels dispatch on the first present input's element type; when that is unknown
		// at build time, Undefined lets the kernel check at run time (a later input's type,
		// such as NLL's int64 targets, must not stand in for it).
		if !sawFirst {
			sawFirst = true
			if v.Type != nil && v.Type.Kind == ir.TensorKind {
				firstType = v.Type.Elem
			}
		}
	}
	for _, v := range n.Outputs() {
		if v == nil {
			st.out = append(st.out, -1)
			info.OutputTypes = append(info.OutputTypes, nil)
			continue
		}
		st.out = append(st.out, b.local(v))
		info.OutputTypes = append(info.OutputTypes, v.Type)
	}
	info.Compile = func(g *ir.Graph) (kernel.Program, error) {
		p, err := compileGraph(b.model, b.opts, g, b)
		if err != nil {
			return nil, fmt.Errorf("subgraph %q: %w", g.Name, err)
		}
		return p, nil
	}
	opset, ok := b.model.Opset(n.Domain)
	if !ok {
		return &MissingKernelError{Op: n.OpType, Domain: n.Domain, Node: n.Describe(),
			Err: fmt.Errorf("the model imports no opset for domain %q", n.Domain)}
	}
	info.Opset = opset
	def, half, err := lookupKernel(n.Domain, n.OpType, opset, firstType)
	if err != nil {
		return &MissingKernelError{Op: n.OpType, Domain: n.Domain, Opset: opset, Node: n.Describe(), Err: err}
	}
	var k kernel.Kernel
	if half {
		k, err = newHalfFallback(def, info, isHalf(firstType))
	} else {
		k, err = kernel.NewGuarded(def, info)
	}
	if err != nil {
		return kernel.AtNode(n.Describe(), err)
	}
	if k == nil {
		return fmt.Errorf("%s: kernel factory returned no kernel", n.Describe())
	}
	st.kernel = k
	st.reads = append(st.reads, b.pending...)
	// Values of this graph that the node's subgraphs read (compiled or not) live until the
	// node has run.
	for _, v := range b.tree.subReads[n] {
		s, err := b.slot(v)
		if err != nil {
			return fmt.Errorf("%s: %w", n.Describe(), err)
		}
		st.reads = append(st.reads, s)
	}
	b.prog.maxArity = max(b.prog.maxArity, len(st.in))
	b.prog.steps = append(b.prog.steps, st)
	return nil
}

// lookupKernel finds the kernel for a node whose first input has element type dt. When the
// op has no float16/bfloat16 kernel but has a float one, it returns that with half set: the
// session runs it through a float32 conversion (see half.go).
func lookupKernel(domain, op string, opset int64, dt ir.DataType) (def kernel.KernelDef, half bool, err error) {
	def, err = kernel.Lookup(domain, op, opset, dt)
	if err != nil {
		if dt != ir.Float16 && dt != ir.BFloat16 {
			return def, false, err
		}
		fdef, ferr := kernel.Lookup(domain, op, opset, ir.Float)
		if ferr != nil || !hasType(fdef.Types, ir.Float) {
			return def, false, err
		}
		return fdef, true, nil
	}
	// Element type unknown at build time: wrap float-only kernels so that half inputs seen
	// at run time are converted rather than rejected.
	if hasType(def.Types, ir.Float) && !(hasType(def.Types, ir.Float16) && hasType(def.Types, ir.BFloat16)) &&
		dt != ir.Float && dt != ir.Double {
		return def, true, nil
	}
	return def, false, nil
}

func hasType(ts []ir.DataType, dt ir.DataType) bool {
	for _, t := range ts {
		if t == dt {
			return true
		}
	}
	return false
}

// planLiveness computes, for every step, the slots that die after it.
func (p *program) planLiveness() {
	if p.keepAll {
		return
	}
	keep := make([]bool, p.nSlots)
	for _, s := range p.outputs {
		keep[s] = true
	}
	last := make([]int, p.nSlots)
	for i := range last {
		last[i] = -1
	}
	for i, st := range p.steps {
		for _, s := range st.reads {
			last[s] = i
		}
		for _, s := range st.out {
			if s >= 0 && last[s] < i {
				last[s] = i // an output nobody reads dies right away
			}
		}
	}
	for s, i := range last {
		if i >= 0 && !keep[s] {
			p.steps[i].free = append(p.steps[i].free, s)
		}
	}
}

// constOfValue converts an initializer. Dense ones are views of the IR's bytes where the
// machine allows (kernel.ViewIR): a session over a model of gigabytes then holds its
// weights once, not twice. Kernels never write to their inputs' data, and a constant's
// slot is never handed to the buffer pool (see pool.go), so the view is only read.
func constOfValue(v *ir.Value) (*kernel.Tensor, error) {
	if v.Const != nil {
		return kernel.ViewIR(v.Const)
	}
	if v.SparseConst != nil {
		return densify(v.SparseConst)
	}
	return nil, fmt.Errorf("not a constant")
}

// densify expands a sparse tensor (COO: values[nnz], indices [nnz] linear or [nnz, rank]).
func densify(s *ir.SparseTensor) (*kernel.Tensor, error) {
	vals, err := kernel.FromIR(s.Values)
	if err != nil {
		return nil, err
	}
	// The dense shape comes from the file: a few bytes may ask for terabytes.
	out, err := kernel.NewChecked(vals.DType, s.Dims...)
	if err != nil {
		return nil, fmt.Errorf("sparse tensor densified: %w", err)
	}
	nnz := vals.Len()
	var idx []int64
	if s.Indices != nil && nnz > 0 {
		if idx, err = s.Indices.Int64s(); err != nil {
			return nil, fmt.Errorf("sparse indices: %w", err)
		}
	}
	total := out.Len()
	strides := make([]int64, len(s.Dims))
	acc := int64(1)
	for i := len(s.Dims) - 1; i >= 0; i-- {
		strides[i] = acc
		acc *= s.Dims[i]
	}
	linear := func(k int) (int, error) {
		switch {
		case len(idx) == nnz:
			return int(idx[k]), nil
		case len(s.Dims) > 0 && len(idx) == nnz*len(s.Dims):
			off := int64(0)
			for d := range s.Dims {
				// Each coordinate in range, so the offset cannot overflow.
				c := idx[k*len(s.Dims)+d]
				if c < 0 || c >= s.Dims[d] {
					return 0, fmt.Errorf("sparse tensor: index %d of value %d is %d, out of range [0,%d)", d, k, c, s.Dims[d])
				}
				off += c * strides[d]
			}
			return int(off), nil
		}
		return 0, fmt.Errorf("sparse tensor: %d indices for %d values of rank %d", len(idx), nnz, len(s.Dims))
	}
	for k := 0; k < nnz; k++ {
		at, err := linear(k)
		if err != nil {
			return nil, err
		}
		if at < 0 || at >= total {
			return nil, fmt.Errorf("sparse tensor: index %d out of range [0,%d)", at, total)
		}
		if err := copyElem(out.Data, at, vals.Data, k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func copyElem(dst any, i int, src any, j int) error {
	switch d := dst.(type) {
	case []float32:
		d[i] = src.([]float32)[j]
	case []float64:
		d[i] = src.([]float64)[j]
	case []uint16:
		d[i] = src.([]uint16)[j]
	case []int8:
		d[i] = src.([]int8)[j]
	case []int16:
		d[i] = src.([]int16)[j]
	case []int32:
		d[i] = src.([]int32)[j]
	case []int64:
		d[i] = src.([]int64)[j]
	case []uint8:
		d[i] = src.([]uint8)[j]
	case []uint32:
		d[i] = src.([]uint32)[j]
	case []uint64:
		d[i] = src.([]uint64)[j]
	case []bool:
		d[i] = src.([]bool)[j]
	case []string:
		d[i] = src.([]string)[j]
	default:
		return fmt.Errorf("sparse tensor: unsupported data %T", dst)
	}
	return nil
}

// mapOrigins points the steps of a program compiled from a prepared copy of orig back at
// orig's nodes. Prepared graphs keep an original value's name only while the value holds
// what the original graph computes (see runtime/prepare), so a step whose outputs carry
// the names of exactly one original node's outputs, in order, computes that node.
func (p *program) mapOrigins(orig *ir.Graph) {
	type producer struct {
		node  *ir.Node
		index int
	}
	byName := map[string]producer{}
	known := map[string]bool{}
	for _, v := range orig.Inputs {
		known[v.Name] = true
	}
	for _, v := range orig.Initializers {
		known[v.Name] = true
	}
	for i, n := range orig.Nodes() {
		for _, v := range n.Outputs() {
			if v != nil {
				byName[v.Name] = producer{n, i}
				known[v.Name] = true
			}
		}
	}
	p.internal = make([]bool, p.nSlots)
	for slot, name := range p.names {
		p.internal[slot] = !known[name]
	}
	for si := range p.steps {
		st := &p.steps[si]
		st.origin = nil
		var from producer
		for i, v := range st.node.Outputs() {
			if v == nil {
				continue
			}
			pr, ok := byName[v.Name]
			if !ok || (from.node != nil && pr.node != from.node) || pr.node.Output(i) == nil || pr.node.Output(i).Name != v.Name {
				from = producer{}
				break
			}
			from = pr
		}
		if from.node != nil && len(from.node.Outputs()) == len(st.node.Outputs()) {
			st.origin, st.nodeIndex = from.node, from.index
		}
	}
}
