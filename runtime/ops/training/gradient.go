package training

import (
	"fmt"
	"sync"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Domain: trainingDomain, Op: "Gradient", SinceVersion: 1, New: newGradient})
}

// gradientKernel is Gradient-1: the derivatives of the value named by attribute y with
// respect to the values named by xs (the node's first inputs), over the part of the
// enclosing graph that computes y from them.
//
// At build time it copies the nodes between xs and y into a forward graph whose inputs
// are xs and whose outputs are every value those nodes read or write, and compiles it
// with the session's kernels. At run time it runs that graph, then walks the nodes
// backwards from y (seeded with ones) applying each op's rule from gradRules and summing
// the gradients reaching each value.
type gradientKernel struct {
	node    *ir.Node
	forward kernel.Program
	nXs     int
	nodes   []*ir.Node        // the nodes between xs and y, in execution order
	slot    map[*ir.Value]int // original value -> index among the forward outputs
	xs      []*ir.Value       // the original xs values
	y       *ir.Value         // the original y value
	active  map[*ir.Node]bool // nodes whose output depends on some x (they need a rule)
	rules   map[*ir.Node]gradRule
}

// callerGraphEdits serializes the Gradient factories' temporary edits of the caller's
// graph (see newGradient).
var callerGraphEdits sync.Mutex

func newGradient(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	g := n.Graph()
	if g == nil {
		return nil, opErr(n, "the node is not in a graph")
	}
	xsAttr := n.Attr("xs")
	yName := n.AttrString("y", "")
	if xsAttr == nil || len(xsAttr.Strings) == 0 || yName == "" {
		return nil, opErr(n, "attributes xs and y are required")
	}
	k := &gradientKernel{node: n, nXs: len(xsAttr.Strings), slot: map[*ir.Value]int{},
		active: map[*ir.Node]bool{}, rules: map[*ir.Node]gradRule{}}
	isX := map[*ir.Value]bool{}
	for i, name := range xsAttr.Strings {
		v := n.Input(i)
		if v == nil || v.Name != name {
			return nil, opErr(n, "input %d must be xs[%d] = %q", i, i, name)
		}
		k.xs = append(k.xs, v)
		isX[v] = true
	}
	if k.y = g.Lookup(yName); k.y == nil {
		return nil, opErr(n, "y %q is not a value of the graph", yName)
	}
	// Collect the producers of y back to xs in post order (an execution order), noting
	// which depend on an x.
	seen := map[*ir.Node]bool{}
	var visit func(v *ir.Value) error
	visit = func(v *ir.Value) error {
		p := v.Producer()
		if isX[v] || p == nil || p.Graph() != g || seen[p] {
			return nil
		}
		if p == n {
			return fmt.Errorf("y depends on the Gradient node itself")
		}
		if len(p.Subgraphs()) > 0 {
			return fmt.Errorf("%s: differentiating through subgraphs is not supported", p.Describe())
		}
		seen[p] = true
		for _, in := range p.Inputs() {
			if in == nil {
				continue
			}
			if err := visit(in); err != nil {
				return err
			}
			if isX[in] || (in.Producer() != nil && k.active[in.Producer()]) {
				k.active[p] = true
			}
		}
		k.nodes = append(k.nodes, p)
		return nil
	}
	if err := visit(k.y); err != nil {
		return nil, opErr(n, "%w", err)
	}
	for _, p := range k.nodes {
		if k.active[p] {
			r, err := lookupGradRule(p)
			if err != nil {
				return nil, opErr(n, "%w", err)
			}
			k.rules[p] = r
		}
	}
	if info.Compile == nil {
		return nil, opErr(n, "the session cannot compile subgraphs")
	}
	// Building the forward graph adds uses to values of the caller's graph until detach
	// removes them: sessions built at the same time on one model take turns here, so
	// that none sees (or corrupts) another's temporary edits.
	callerGraphEdits.Lock()
	fwd, detach, err := k.forwardGraph(isX)
	if err != nil {
		callerGraphEdits.Unlock()
		return nil, opErr(n, "%w", err)
	}
	k.forward, err = info.Compile(fwd)
	detach()
	callerGraphEdits.Unlock()
	if err != nil {
		return nil, opErr(n, "forward graph: %w", err)
	}
	return k, nil
}

// forwardGraph copies k.nodes into a graph of its own (so that the model is not
// modified): xs become its inputs, constants it reads are copied in as initializers, and
// every value the nodes touch becomes an output (k.slot records where). Other values of
// the enclosing graph are read in place; detach drops the use-list entries the copies
// added to them, once the graph is compiled.
func (k *gradientKernel) forwardGraph(isX map[*ir.Value]bool) (*ir.Graph, func(), error) {
	fg := ir.NewGraph(k.node.Name + "/forward")
	mapped := map[*ir.Value]*ir.Value{}
	for _, x := range k.xs {
		mapped[x] = fg.AddInput(x.Name, x.Type)
	}
	var copies []*ir.Node
	detach := func() {
		for _, c := range copies {
			for i, v := range c.Inputs() {
				if v != nil && v.Graph() != fg {
					c.SetInput(i, nil)
				}
			}
		}
	}
	resolve := func(v *ir.Value) *ir.Value {
		if m, ok := mapped[v]; ok {
			return m
		}
		if v.Const != nil && v.Producer() == nil {
			c := *v.Const
			c.Name = v.Name
			m := fg.AddInitializer(&c)
			m.Type = v.Type
			mapped[v] = m
			return m
		}
		return v
	}
	addOutput := func(orig *ir.Value) {
		if _, ok := k.slot[orig]; ok {
			return
		}
		k.slot[orig] = len(fg.Outputs)
		fg.Outputs = append(fg.Outputs, resolve(orig))
	}
	for _, p := range k.nodes {
		ins := make([]*ir.Value, len(p.Inputs()))
		for i, v := range p.Inputs() {
			if v != nil {
				ins[i] = resolve(v)
			}
		}
		names := make([]string, len(p.Outputs()))
		for i, v := range p.Outputs() {
			if v != nil {
				names[i] = v.Name
			}
		}
		c := fg.NewNode(p.Domain, p.OpType, ins, names, p.Attrs...)
		c.Name = p.Name
		fg.Append(c)
		copies = append(copies, c)
		for i, v := range p.Outputs() {
			if v != nil {
				c.Output(i).Type = v.Type
				mapped[v] = c.Output(i)
			}
		}
	}
	for _, p := range k.nodes {
		for _, v := range p.Inputs() {
			if v != nil {
				addOutput(v)
			}
		}
		for _, v := range p.Outputs() {
			if v != nil {
				addOutput(v)
			}
		}
	}
	addOutput(k.y)
	return fg, detach, nil
}

func (k *gradientKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	if len(inputs) < k.nXs {
		return nil, opErr(k.node, "%d inputs for %d xs", len(inputs), k.nXs)
	}
	for i := 0; i < k.nXs; i++ {
		if kernel.Input(inputs, i) == nil {
			return nil, opErr(k.node, "input %d (xs[%d]) is missing", i, i)
		}
	}
	vals, err := k.forward.Run(ctx, inputs[:k.nXs])
	if err != nil {
		return nil, opErr(k.node, "forward: %w", err)
	}
	value := func(v *ir.Value) (*dense, error) {
		t := vals[k.slot[v]]
		d, err := kernel.FloatsOf(t)
		if err != nil {
			return nil, fmt.Errorf("value %q: %w", v.Name, err)
		}
		return &dense{shape: t.Shape, data: d}, nil
	}
	yv, err := value(k.y)
	if err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	grads := map[*ir.Value]*dense{}
	seedData, err := zeros(yv.size())
	if err != nil {
		return nil, err
	}
	seed := &dense{shape: yv.shape, data: seedData}
	for i := range seed.data {
		seed.data[i] = 1
	}
	grads[k.y] = seed
	for i := len(k.nodes) - 1; i >= 0; i-- {
		p := k.nodes[i]
		rule := k.rules[p]
		if rule == nil {
			continue // no x reaches this node
		}
		gradOut := make([]*dense, len(p.Outputs()))
		reached := false
		for j, v := range p.Outputs() {
			if v != nil && grads[v] != nil {
				gradOut[j], reached = grads[v], true
			}
		}
		if !reached {
			continue
		}
		in := make([]*dense, len(p.Inputs()))
		for j, v := range p.Inputs() {
			if v != nil {
				if in[j], err = value(v); err != nil {
					return nil, opErr(k.node, "%w", err)
				}
			}
		}
		out := make([]*dense, len(p.Outputs()))
		for j, v := range p.Outputs() {
			if v != nil {
				if out[j], err = value(v); err != nil {
					return nil, opErr(k.node, "%w", err)
				}
			}
		}
		gradIn, err := rule(p, in, out, gradOut)
		if err != nil {
			return nil, opErr(k.node, "%w", err)
		}
		for j, gv := range gradIn {
			v := p.Input(j)
			if gv == nil || v == nil {
				continue
			}
			if acc := grads[v]; acc != nil {
				for e := range acc.data {
					acc.data[e] += gv.data[e]
				}
			} else {
				data, err := zeros(len(gv.data))
				if err != nil {
					return nil, err
				}
				copy(data, gv.data)
				grads[v] = &dense{shape: gv.shape, data: data}
			}
		}
	}
	outs := make([]*kernel.Tensor, k.nXs)
	for i, x := range k.xs {
		xt := inputs[i]
		d, err := zeros(xt.NumElements())
		if err != nil {
			return nil, err
		}
		if gv := grads[x]; gv != nil { // y does not depend on x otherwise: zero gradient
			copy(d, gv.data)
		}
		if outs[i], err = kernel.FromFloat64s(ctx, xt.DType, xt.Shape, d); err != nil {
			return nil, opErr(k.node, "gradient of %q: %w", x.Name, err)
		}
	}
	return outs, nil
}
