package grad

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/train/internal/rng"
)

// Tape is one forward pass: every value it computed, and what the gradient rules saved.
// It stays valid until the Program's next Forward; Backward may be called once.
type Tape struct {
	p      *Program
	mode   Mode
	vals   []*kernel.Tensor
	fwds   []fwd
	grads  []*kernel.Tensor
	backed bool
	valid  bool
}

// fwd is what a rule's backward sees of its node's forward execution.
type fwd struct {
	in, out []*kernel.Tensor
	// aux is what the rule's forward kept for backward (batch statistics, a dropout mask).
	aux any
}

// op is a node compiled for training: a forward computation and, for nodes on a
// differentiated path, its gradient rule.
type op interface {
	forward(c *runCtx, in []*kernel.Tensor) (out []*kernel.Tensor, aux any, err error)
	// backward fills gin[i] for every input whose needGrad is set, from the gradients gout
	// reaching the outputs (nil for an output that received none: treat it as zero). Each
	// gin[i] is a buffer the rule took from the arena in this call, of input i's size and
	// shared with nothing else: the engine keeps it as that input's gradient.
	backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error
}

// runCtx is what an op sees while it runs.
type runCtx struct {
	a    *arena
	kctx kernel.Context
	mode Mode
	// seed is unique to this node and this step (Dropout's masks come from it).
	seed     uint64
	needGrad []bool
	// threads bounds the goroutines a rule may occupy (Config.Threads).
	threads int
}

// forwardOnly runs a runtime kernel for a node that needs no gradient.
type forwardOnly struct{ k kernel.Kernel }

func (f forwardOnly) forward(c *runCtx, in []*kernel.Tensor) ([]*kernel.Tensor, any, error) {
	out, err := f.k.Run(&c.kctx, in)
	return out, nil, err
}

func (forwardOnly) backward(*runCtx, *fwd, []*kernel.Tensor, []*kernel.Tensor) error {
	return fmt.Errorf("forward-only node has no gradient")
}

// Forward runs the model on the named inputs in the given mode. step numbers the training
// step: together with Config.Seed it fixes Dropout's masks, so a run resumed at a step
// draws what the uninterrupted run drew. The previous Tape becomes invalid.
func (p *Program) Forward(ctx context.Context, inputs map[string]*kernel.Tensor, mode Mode, step uint64) (*Tape, error) {
	if p.tape != nil {
		p.tape.valid = false
	}
	p.arena.reset()
	t := p.tape
	if t == nil {
		t = &Tape{p: p, vals: make([]*kernel.Tensor, p.nSlots), fwds: make([]fwd, len(p.steps)), grads: make([]*kernel.Tensor, p.nSlots)}
		p.tape = t
	}
	clear(t.vals)
	clear(t.grads)
	t.mode, t.backed, t.valid = mode, false, true
	if err := p.feed(t, inputs); err != nil {
		return nil, err
	}
	for _, c := range p.consts {
		t.vals[c.slot] = c.t
	}
	for i, pr := range p.params {
		t.vals[p.paramAt[i]] = &kernel.Tensor{DType: ir.Float, Shape: pr.Shape, Data: pr.Value}
	}
	for i, s := range p.state {
		t.vals[p.stateAt[i]] = &kernel.Tensor{DType: ir.Float, Shape: s.Shape, Data: s.Value}
	}
	static := p.staticOutputs(t)
	c := &runCtx{a: p.arena, mode: mode, threads: p.threads}
	c.kctx = kernel.Context{Ctx: ctx, Pool: p.arena, Threads: p.threads}
	if c.kctx.Ctx == nil {
		c.kctx.Ctx = context.Background()
	}
	for i, st := range p.steps {
		if err := c.kctx.Ctx.Err(); err != nil {
			return nil, err
		}
		f := &t.fwds[i]
		f.in = resize(f.in, len(st.in))
		for k, s := range st.in {
			f.in[k] = nil
			if s >= 0 {
				f.in[k] = t.vals[s]
			}
		}
		c.seed = rng.Mix(p.cfg.Seed, step, uint64(i))
		c.needGrad = st.needGrad
		var outs []*kernel.Tensor
		var aux any
		var err error
		switch {
		case st.static && static[i] != nil:
			outs = static[i]
		case st.static:
			// Computed outside the arena: the values outlive this step.
			outs, err = st.op.(forwardOnly).k.Run(&kernel.Context{Ctx: c.kctx.Ctx, Threads: p.threads}, f.in)
			static[i] = outs
		default:
			outs, aux, err = st.op.forward(c, f.in)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.node.Describe(), err)
		}
		f.out, f.aux = outs, aux
		for k, s := range st.out {
			if s < 0 {
				continue
			}
			if k >= len(outs) || outs[k] == nil {
				return nil, fmt.Errorf("%s: no value for output %d", st.node.Describe(), k)
			}
			t.vals[s] = outs[k]
		}
	}
	return t, nil
}

// feed checks the inputs against the graph's declarations and places them.
func (p *Program) feed(t *Tape, inputs map[string]*kernel.Tensor) error {
	known := map[string]bool{}
	for _, f := range p.feeds {
		known[f.name] = true
		v := inputs[f.name]
		if v == nil {
			return fmt.Errorf("grad: input %q is missing", f.name)
		}
		if err := checkInput(v, f.typ); err != nil {
			return fmt.Errorf("grad: input %q: %w", f.name, err)
		}
		t.vals[f.slot] = v
	}
	var extra []string
	for name := range inputs {
		if !known[name] {
			extra = append(extra, strconv.Quote(name))
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("grad: the model has no input named %s", strings.Join(extra, ", "))
	}
	return nil
}

func checkInput(v *kernel.Tensor, typ *ir.Type) error {
	if v.Kind != kernel.TensorValue {
		return fmt.Errorf("got %s, want a tensor", v)
	}
	if v.Len() != v.NumElements() {
		return fmt.Errorf("data holds %d elements, shape %v needs %d", v.Len(), v.Shape, v.NumElements())
	}
	if typ == nil {
		return nil
	}
	if typ.Elem != ir.Undefined && v.DType != typ.Elem {
		return fmt.Errorf("element type %s, the model declares %s", v.DType, typ)
	}
	if typ.HasShape {
		if len(v.Shape) != len(typ.Dims) {
			return fmt.Errorf("shape %v, the model declares %s", v.Shape, typ)
		}
		for i, d := range typ.Dims {
			if d.IsKnown() && d.Value != v.Shape[i] {
				return fmt.Errorf("shape %v, the model declares %s (dimension %d)", v.Shape, typ, i)
			}
		}
	}
	return nil
}

// staticOutputs returns the cached outputs of the static steps for the fed shapes (nil
// entries where not yet computed).
func (p *Program) staticOutputs(t *Tape) [][]*kernel.Tensor {
	var key strings.Builder
	for _, f := range p.feeds {
		fmt.Fprint(&key, t.vals[f.slot].Shape, ";")
	}
	cached, ok := p.staticCache[key.String()]
	if !ok {
		// Each batch shape costs one entry; a caller feeding ever-new shapes must not grow
		// the cache without bound.
		if len(p.staticCache) >= 16 {
			clear(p.staticCache)
		}
		cached = make([][]*kernel.Tensor, len(p.steps))
		p.staticCache[key.String()] = cached
	}
	return cached
}

// Value returns the value of a named tensor of the pass (any value the forward computed
// or read), or nil.
func (t *Tape) Value(name string) *kernel.Tensor {
	if !t.valid {
		return nil
	}
	s, ok := t.p.slotOf[name]
	if !ok {
		return nil
	}
	return t.vals[s]
}

// Backward propagates seed gradients (dLoss/dTensor, one per named tensor, each of the
// tensor's shape) back through the pass and adds the gradient of every parameter into its
// Param.Grad. Seeds of tensors that no trainable parameter influences are ignored.
func (t *Tape) Backward(ctx context.Context, seeds map[string][]float32) error {
	if !t.valid {
		return fmt.Errorf("grad: backward on a tape that a later forward pass invalidated")
	}
	if t.backed {
		return fmt.Errorf("grad: backward called twice on one tape")
	}
	t.backed = true
	p := t.p
	names := make([]string, 0, len(seeds))
	for name := range seeds {
		names = append(names, name)
	}
	sort.Strings(names) // accumulation order fixed: results do not depend on map order
	for _, name := range names {
		s, ok := p.slotOf[name]
		if !ok || t.vals[s] == nil {
			return fmt.Errorf("grad: seed for %q, which is not a value of this pass", name)
		}
		v, g := t.vals[s], seeds[name]
		if len(g) != v.Len() {
			return fmt.Errorf("grad: seed for %q has %d elements, the tensor %v has %d", name, len(g), v.Shape, v.Len())
		}
		t.accumulate(s, v.Shape, g)
	}
	c := &runCtx{a: p.arena, mode: t.mode, threads: p.threads}
	c.kctx = kernel.Context{Ctx: ctx, Pool: p.arena, Threads: p.threads}
	if c.kctx.Ctx == nil {
		c.kctx.Ctx = context.Background()
	}
	var gout, gin []*kernel.Tensor
	for i := len(p.steps) - 1; i >= 0; i-- {
		st := p.steps[i]
		if !st.grad {
			continue
		}
		gout = resize(gout, len(st.out))
		any := false
		for k, s := range st.out {
			gout[k] = nil
			if s >= 0 && t.grads[s] != nil {
				gout[k] = t.grads[s]
				any = true
			}
		}
		if !any {
			continue
		}
		if err := c.kctx.Ctx.Err(); err != nil {
			return err
		}
		gin = resize(gin, len(st.in))
		clear(gin)
		c.needGrad = st.needGrad
		if err := st.op.backward(c, &t.fwds[i], gout, gin); err != nil {
			return fmt.Errorf("grad: backward of %s: %w", st.node.Describe(), err)
		}
		for k, s := range st.in {
			if s < 0 || !st.needGrad[k] || gin[k] == nil {
				continue
			}
			in := t.fwds[i].in[k]
			if gin[k].Len() != in.Len() {
				return fmt.Errorf("grad: backward of %s: gradient of input %d has %d elements, the input %v has %d",
					st.node.Describe(), k, gin[k].Len(), in.Shape, in.Len())
			}
			if t.grads[s] == nil {
				// Rules hand back buffers of their own (see op.backward): the slot takes it.
				gin[k].Shape = in.Shape
				t.grads[s] = gin[k]
				continue
			}
			axpy(t.grads[s].Float32s(), gin[k].Float32s(), 1)
		}
	}
	for i, pr := range p.params {
		if g := t.grads[p.paramAt[i]]; g != nil {
			axpy(pr.Grad, g.Float32s(), 1)
		}
	}
	return nil
}

// accumulate adds g into the gradient of slot s, copying it the first time so that the
// slot owns its buffer.
func (t *Tape) accumulate(s int, shape []int64, g []float32) {
	if cur := t.grads[s]; cur != nil {
		axpy(cur.Float32s(), g, 1)
		return
	}
	buf := t.p.arena.tensor(shape)
	copy(buf.Float32s(), g)
	t.grads[s] = buf
}

// Grad returns the gradient that reached a named tensor in Backward, or nil.
func (t *Tape) Grad(name string) []float32 {
	s, ok := t.p.slotOf[name]
	if !ok || !t.valid || t.grads[s] == nil {
		return nil
	}
	return t.grads[s].Float32s()
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
