package runtime

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

// Tensor is the runtime value type.
type Tensor = kernel.Tensor

// Options tune a Session.
type Options struct {
	// Intermediates makes Run return every named value of the main graph (graph inputs,
	// constants and node outputs), not just the graph outputs; no buffer is recycled then,
	// and the graph runs node by node as written (no fusion or layout change).
	Intermediates bool
	// Observer, when set, is called after nodes of the main graph run, with the node's index
	// in the graph's node list and its outputs. It runs on the goroutine of Run; it must not
	// keep or modify outs after it returns (their buffers are recycled): copy what it needs.
	// Constant nodes, which the session folds, are not reported. Without Observed every
	// other node is reported, and the graph runs node by node as written.
	Observer func(nodeIdx int, n *ir.Node, outs []*Tensor)
	// Observed, with Observer, names the values the observer needs. The session then
	// prepares the graph as usual (fusing nodes whose outputs nobody needs) except that
	// these values stay computed as the graph has them, and it reports only the nodes it
	// still runs as such, among them the producers of every observed value.
	Observed []string
	// Reference runs the graph as written, every node on its reference kernel, skipping
	// the preparation stage (runtime/prepare: constant folding, fusion, layouts). Tests
	// compare prepared sessions with reference ones.
	Reference bool
	// StepTimer, when set, is called after each step of the main graph with the step's node,
	// its inputs and how long its kernel took. Steps are those the session runs: after the
	// preparation stage a fused operator (whittle.runtime domain: NhwcConv, QConvNHWC,
	// FusedGemm, ...) is one step, and nodes it absorbed are not reported. It runs on the
	// goroutine of Run; it must not keep or modify inputs. whittle bench --ops aggregates it.
	StepTimer func(n *ir.Node, inputs []*Tensor, d time.Duration)
	// Threads is how many goroutines one Run may occupy, its own included: kernels split
	// large operations (GEMM tiles, channels, rows) over that many. 0 means
	// runtime.GOMAXPROCS(0) when the session is built; 1 runs every kernel on the caller's
	// goroutine. Concurrent Runs each get their own allowance.
	Threads int
}

// Session is a model compiled for running. Build it once with NewSession; Run may then be
// called from many goroutines at once.
type Session struct {
	model *ir.Model
	opts  Options
	main  *program
	pool  *bufferPool
	// feeds are the graph inputs a caller supplies (inputs with an initializer default
	// may be omitted).
	feeds []feed
	runs  sync.Pool // *runAlloc
}

type feed struct {
	name     string
	slot     int
	typ      *ir.Type
	optional bool
}

// NewSession compiles m: it resolves every node, in the main graph and in subgraphs, to a
// kernel for the model's opset, converts constants once and plans buffer lifetimes. Every
// node that has no kernel (or whose kernel rejects it) is reported, in one joined error.
// Float and integer constants are read where m holds them (IR tensors are immutable), not
// copied: an output that is a constant, or a view of one, shares m's bytes and must only
// be read.
func NewSession(m *ir.Model, opts Options) (*Session, error) {
	if m == nil || m.Graph == nil {
		return nil, errors.New("runtime: model has no graph")
	}
	if opts.Threads <= 0 {
		opts.Threads = goruntime.GOMAXPROCS(0)
	}
	s := &Session{model: m, opts: opts, pool: &bufferPool{}}
	run := m
	if !opts.Reference {
		var err error
		popts := prepare.Options{KeepAll: opts.Intermediates || (opts.Observer != nil && opts.Observed == nil), Keep: opts.Observed}
		if run, err = prepare.Prepare(m, popts); err != nil {
			return nil, fmt.Errorf("runtime: build session for graph %q: %w", m.Graph.Name, err)
		}
	}
	p, err := compileGraph(run, &s.opts, run.Graph, nil)
	if err != nil {
		return nil, fmt.Errorf("runtime: build session for graph %q: %w", m.Graph.Name, err)
	}
	if run != m {
		p.mapOrigins(m.Graph)
	}
	s.main = p
	for i, v := range run.Graph.Inputs {
		s.feeds = append(s.feeds, feed{name: v.Name, slot: p.inputs[i], typ: v.Type, optional: v.IsConst()})
	}
	s.runs.New = func() any { return &runAlloc{pool: s.pool} }
	return s, nil
}

// InputNames lists the graph inputs in order (including those with a default value).
func (s *Session) InputNames() []string {
	names := make([]string, len(s.feeds))
	for i, f := range s.feeds {
		names[i] = f.name
	}
	return names
}

// OutputNames lists the graph outputs in order.
func (s *Session) OutputNames() []string {
	names := make([]string, len(s.main.outputs))
	for i, slot := range s.main.outputs {
		names[i] = s.main.names[slot]
	}
	return names
}

// Run executes the model on named inputs and returns the graph outputs by name (and, with
// Options.Intermediates, every other named value). Inputs are only read.
func (s *Session) Run(ctx context.Context, inputs map[string]*Tensor) (map[string]*Tensor, error) {
	ordered := make([]*Tensor, len(s.feeds))
	known := make(map[string]bool, len(s.feeds))
	for i, f := range s.feeds {
		known[f.name] = true
		ordered[i] = inputs[f.name]
	}
	var unknown []string
	for name := range inputs {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("runtime: the model has no input named %s (inputs: %s)",
			quoteList(unknown), quoteList(s.InputNames()))
	}
	var out map[string]*Tensor
	outs, err := s.run(ctx, ordered, func(sc *Scope) {
		out = make(map[string]*Tensor, len(s.main.outputs))
		if s.opts.Intermediates {
			for slot, v := range sc.values {
				if v != nil && s.main.names[slot] != "" && !(s.main.internal != nil && s.main.internal[slot]) {
					out[s.main.names[slot]] = v
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	for i, slot := range s.main.outputs {
		out[s.main.names[slot]] = outs[i]
	}
	return out, nil
}

// RunOrdered is Run with inputs and outputs given in graph order; a nil input is omitted
// (allowed only for inputs that have a default value).
func (s *Session) RunOrdered(ctx context.Context, inputs []*Tensor) ([]*Tensor, error) {
	if len(inputs) > len(s.feeds) {
		return nil, fmt.Errorf("runtime: %d inputs given, the model has %d", len(inputs), len(s.feeds))
	}
	ordered := make([]*Tensor, len(s.feeds))
	copy(ordered, inputs)
	return s.run(ctx, ordered, nil)
}

func (s *Session) run(ctx context.Context, inputs []*Tensor, collect func(*Scope)) ([]*Tensor, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	for i, f := range s.feeds {
		t := inputs[i]
		if t == nil {
			if f.optional {
				continue
			}
			return nil, fmt.Errorf("runtime: input %q is missing", f.name)
		}
		if err := checkValue(t, f.typ); err != nil {
			return nil, fmt.Errorf("runtime: input %q: %w", f.name, err)
		}
	}
	alloc := s.runs.Get().(*runAlloc)
	defer func() {
		clear(alloc.fresh)
		alloc.fresh = alloc.fresh[:0]
		s.runs.Put(alloc)
	}()
	sc, err := s.main.exec(ctx, alloc, s.opts.Threads, nil, inputs, s.opts.Observer, s.opts.StepTimer)
	if err != nil {
		return nil, err
	}
	outs := sc.outputs()
	if collect != nil {
		collect(sc)
	}
	s.main.release(sc)
	return outs, nil
}

// checkValue checks a value against a declared type: kind, element type, rank and the
// dimensions the type fixes.
func checkValue(t *Tensor, typ *ir.Type) error {
	if typ == nil {
		return nil
	}
	switch typ.Kind {
	case ir.TensorKind:
		if t.Kind != kernel.TensorValue {
			return fmt.Errorf("got a %s value, the model declares %s", t, typ)
		}
		if typ.Elem != ir.Undefined && t.DType != typ.Elem {
			return fmt.Errorf("element type %s, the model declares %s", t.DType, typ)
		}
		if typ.HasShape {
			if len(t.Shape) != len(typ.Dims) {
				return fmt.Errorf("rank %d (shape %v), the model declares %s", len(t.Shape), t.Shape, typ)
			}
			for i, d := range typ.Dims {
				if d.IsKnown() && d.Value != t.Shape[i] {
					return fmt.Errorf("shape %v, the model declares %s (dimension %d)", t.Shape, typ, i)
				}
			}
		}
		if n := t.NumElements(); t.Len() != n {
			return fmt.Errorf("data holds %d elements, shape %v needs %d", t.Len(), t.Shape, n)
		}
	case ir.SequenceKind:
		if t.Kind != kernel.SequenceValue {
			return fmt.Errorf("got %s, the model declares %s", t, typ)
		}
		for i, e := range t.Seq {
			if err := checkValue(e, typ.Inner); err != nil {
				return fmt.Errorf("sequence element %d: %w", i, err)
			}
		}
	case ir.OptionalKind:
		if t.Kind == kernel.NoneValue {
			return nil
		}
		return checkValue(t, typ.Inner)
	}
	return nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// Scope is the state of one execution of a program (the main graph or a subgraph body):
// one value per slot. A control-flow kernel's Context.Scope holds the *Scope of the graph
// its node belongs to; a subgraph program started from that kernel copies the outer values
// it reads out of it (slots resolved when the session was built), so no name lookup
// happens while running.
type Scope struct {
	prog *program
	// parent is the scope of the enclosing graph's run; jump skips up the chain so that the
	// scope at any level is found in O(log depth) steps (see ancestor).
	parent, jump *Scope
	values       []*Tensor
	// owned marks values whose buffer came from the pool and is shared with no other value
	// (the rule is in pool.go).
	owned []bool
	args  []*Tensor
	kctx  kernel.Context
}

// Lookup returns the value of the named value of the scope's graph, if it is live; for
// debugging and tests.
func (sc *Scope) Lookup(name string) (*Tensor, bool) {
	for slot, n := range sc.prog.names {
		if n == name && sc.values[slot] != nil {
			return sc.values[slot], true
		}
	}
	return nil, false
}

// ancestor returns the scope of the enclosing graph at nesting level depth (< sc's).
func (sc *Scope) ancestor(depth int) *Scope {
	s := sc.parent
	for s.prog.depth > depth {
		if s.jump != nil && s.jump.prog.depth >= depth {
			s = s.jump
		} else {
			s = s.parent
		}
	}
	return s
}

func (sc *Scope) outputs() []*Tensor {
	outs := make([]*Tensor, len(sc.prog.outputs))
	for i, slot := range sc.prog.outputs {
		outs[i] = sc.values[slot]
	}
	return outs
}

func (p *program) acquire() *Scope {
	if sc, ok := p.frames.Get().(*Scope); ok {
		return sc
	}
	return &Scope{
		prog:   p,
		values: make([]*Tensor, p.nSlots),
		owned:  make([]bool, p.nSlots),
		args:   make([]*Tensor, p.maxArity),
	}
}

// inheritsFirstInput reports whether output t of step st may take over the buffer of the
// step's first input: t is that whole buffer, the input's buffer is owned (pooled, never
// viewed), and this step is the input's last reader.
func (p *program) inheritsFirstInput(st *step, sc *Scope, args []*Tensor, t *Tensor) bool {
	if len(st.in) == 0 || st.in[0] < 0 || len(args) == 0 || args[0] == nil {
		return false
	}
	in := st.in[0]
	if !sc.owned[in] || !slices.Contains(st.free, in) || !sameBuffer(args[0].Data, t.Data) {
		return false
	}
	for _, other := range st.in[1:] {
		if other == in {
			return false // read twice: the heir rule reasons about one reference
		}
	}
	return true
}

func (p *program) release(sc *Scope) {
	clear(sc.values)
	clear(sc.owned)
	clear(sc.args)
	sc.parent, sc.jump = nil, nil
	sc.kctx = kernel.Context{}
	p.frames.Put(sc)
}

// Run implements kernel.Program: control-flow kernels call it with their own Context, whose
// Scope is the scope of the graph holding the node and whose Pool is the run's allocator.
func (p *program) Run(ctx *kernel.Context, inputs []*Tensor) ([]*Tensor, error) {
	if len(inputs) > len(p.inputs) {
		return nil, fmt.Errorf("subgraph %q: %d inputs given, it has %d", p.graph.Name, len(inputs), len(p.inputs))
	}
	var parent *Scope
	if ctx != nil {
		parent, _ = ctx.Scope.(*Scope)
	}
	if len(p.outer) > 0 && parent == nil {
		return nil, fmt.Errorf("subgraph %q reads outer values but was run without the enclosing scope", p.graph.Name)
	}
	var alloc *runAlloc
	goCtx := context.Background()
	threads := ctx.Parallelism()
	if ctx != nil {
		alloc, _ = ctx.Pool.(*runAlloc)
		if ctx.Ctx != nil {
			goCtx = ctx.Ctx
		}
	}
	if alloc == nil {
		alloc = &runAlloc{pool: &bufferPool{}}
	}
	ins := make([]*Tensor, len(p.inputs))
	copy(ins, inputs)
	sc, err := p.exec(goCtx, alloc, threads, parent, ins, nil, nil)
	if err != nil {
		return nil, err
	}
	outs := sc.outputs()
	p.release(sc)
	return outs, nil
}

// exec runs the program; the caller reads the results from the returned scope and then
// releases it.
func (p *program) exec(ctx context.Context, alloc *runAlloc, threads int, parent *Scope, inputs []*Tensor, observe func(int, *ir.Node, []*Tensor),
	timer func(*ir.Node, []*Tensor, time.Duration)) (*Scope, error) {
	sc := p.acquire()
	sc.kctx = kernel.Context{Ctx: ctx, Pool: alloc, Scope: sc, Threads: threads}
	vals := sc.values
	for _, c := range p.consts {
		vals[c.slot] = c.t
	}
	sc.parent, sc.jump = parent, nil
	if parent != nil {
		// Myers' skew-binary jump pointers: jump to parent.jump.jump when the two jumps
		// below span equal distances, else to parent.
		sc.jump = parent
		if j := parent.jump; j != nil && j.jump != nil && parent.prog.depth-j.prog.depth == j.prog.depth-j.jump.prog.depth {
			sc.jump = j.jump
		}
	}
	for _, o := range p.outer {
		vals[o.local] = sc.ancestor(o.depth).values[o.slot]
	}
	for i, slot := range p.inputs {
		if i < len(inputs) && inputs[i] != nil {
			vals[slot] = inputs[i]
		}
	}
	for si := range p.steps {
		st := &p.steps[si]
		if err := ctx.Err(); err != nil {
			p.release(sc)
			return nil, err
		}
		args := sc.args[:len(st.in)]
		for i, slot := range st.in {
			if slot < 0 {
				args[i] = nil
			} else {
				args[i] = vals[slot]
			}
		}
		mark := len(alloc.fresh)
		var t0 time.Time
		if timer != nil {
			t0 = time.Now()
		}
		outs, err := kernel.RunGuarded(st.kernel, &sc.kctx, args)
		if timer != nil && err == nil {
			timer(st.node, args, time.Since(t0))
		}
		if err != nil {
			alloc.fresh = alloc.fresh[:mark]
			p.release(sc)
			return nil, kernel.WrapPath(st.node.Describe(), err)
		}
		aliased := false
		heir := -1 // the one output that is the whole buffer of a first input dying here
		for i, slot := range st.out {
			if slot < 0 {
				continue
			}
			var t *Tensor
			if i < len(outs) {
				t = outs[i]
			}
			if t == nil {
				alloc.fresh = alloc.fresh[:mark]
				p.release(sc)
				return nil, fmt.Errorf("%s: the kernel produced no value for output %d (%q)", st.node.Describe(), i, p.names[slot])
			}
			vals[slot] = t
			if alloc.takeFresh(mark, t) {
				sc.owned[slot] = true
			} else {
				aliased = true
				if p.inheritsFirstInput(st, sc, args, t) {
					if heir == -1 {
						heir = slot
					} else {
						heir = -2 // two outputs share the buffer: neither owns it
					}
				}
			}
		}
		clear(alloc.fresh[mark:])
		alloc.fresh = alloc.fresh[:mark]
		if aliased {
			for _, s := range st.reads {
				sc.owned[s] = false
			}
			if heir >= 0 {
				sc.owned[heir] = true
			}
		}
		if observe != nil && st.origin != nil {
			observe(st.nodeIndex, st.origin, outs)
		}
		for _, s := range st.free {
			if sc.owned[s] {
				alloc.release(vals[s])
				sc.owned[s] = false
			}
			vals[s] = nil
		}
	}
	return sc, nil
}
