package grad

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"sort"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"

	// The runtime's kernels compute most forward values.
	_ "github.com/whittle-ml/whittle/runtime"
)

// Config says what a Program differentiates.
type Config struct {
	// Targets names the tensors a loss reads: graph outputs or any intermediate value.
	// Empty means the graph outputs. Only nodes that lead to a target (or a graph output)
	// run, and only paths into targets are differentiated.
	Targets []string
	// Trainable chooses the float initializers to differentiate and update. nil means the
	// default set: every float initializer with more than one element that feeds a
	// differentiable input of a node leading to a target (one-element constants such as
	// normalization means, epsilons and exponents, and BatchNormalization's running
	// statistics, are left out).
	Trainable func(name string, t *ir.Tensor) bool
	// FreezeBatchNorm makes BatchNormalization use (and keep) its running statistics in
	// training mode too, as a PyTorch module in eval mode does.
	FreezeBatchNorm bool
	// Seed drives Dropout's masks (see Tape.Forward's step).
	Seed uint64
	// Threads bounds the goroutines a pass may occupy; 0 means GOMAXPROCS. Results are
	// reproducible for a given thread count.
	Threads int
}

// Mode says how a forward pass treats the ops whose behaviour differs in training.
type Mode int

const (
	// Inference uses BatchNormalization's running statistics and passes Dropout through,
	// as the exported model does. A tape made in Inference cannot run Backward.
	Inference Mode = iota
	// Training normalizes with batch statistics (updating the running statistics with the
	// node's momentum, PyTorch's convention) and applies Dropout.
	Training
)

func (m Mode) String() string {
	if m == Training {
		return "training"
	}
	return "inference"
}

// Param is a float initializer the program differentiates. Value is the program's own copy
// of the weights, which optimizers update in place; Backward adds dLoss/dValue into Grad.
type Param struct {
	Name  string
	Shape []int64
	Value []float32
	Grad  []float32
}

// State is a float initializer that training changes without differentiating it: the
// running mean and variance of BatchNormalization.
type State struct {
	Name  string
	Shape []int64
	Value []float32
}

// Program is a model compiled for training: the forward order, the value each node reads,
// the gradient rule of every node on a path from a trainable initializer to a target, all
// resolved once by Build. A Program is used by one goroutine at a time: Forward makes a
// Tape that stays valid until the next Forward.
type Program struct {
	model  *ir.Model
	cfg    Config
	params []*Param
	state  []*State

	nSlots  int
	slotOf  map[string]int
	names   []string
	consts  []constSlot // initializers that are not trained, folded constants
	paramAt []int       // slot of each param
	stateAt []int       // slot of each state
	feeds   []feed
	outputs []int // graph output slots
	targets []int

	steps []*step // in execution order
	// staticCache holds, per signature of the fed shapes, the outputs of every static step
	// (indexed by step), computed the first time the signature is seen.
	staticCache map[string][][]*kernel.Tensor

	arena   *arena
	tape    *Tape
	threads int
}

type constSlot struct {
	slot int
	t    *kernel.Tensor
}

type feed struct {
	name string
	slot int
	typ  *ir.Type
}

// step is one node run on every forward pass.
type step struct {
	node *ir.Node
	op   op
	in   []int
	out  []int
	// grad says the node is on a differentiated path: Backward runs its rule.
	grad bool
	// needGrad[i] says input i wants a gradient.
	needGrad []bool
	// static marks a node whose outputs depend only on constants and on tensor shapes
	// (Shape → Gather → Concat → Reshape, as exporters write them): it carries no gradient
	// and runs once per input-shape signature.
	static bool
}

// NoRuleError reports nodes on a differentiated path whose op has no gradient rule.
type NoRuleError struct {
	// Nodes describes each node: its name and op.
	Nodes []string
}

func (e *NoRuleError) Error() string {
	return fmt.Sprintf("no gradient rule for %s", strings.Join(e.Nodes, ", "))
}

// ErrNothingToTrain is returned by Build when no float initializer is trainable (an
// integer-only graph, or a selection that matches nothing).
var ErrNothingToTrain = errors.New("no trainable float initializer")

// Build compiles m for training. It works on a copy of m's graph (tensors are shared, not
// copied, until the program's own parameter buffers are made), so m is not changed. Every
// node on a differentiated path whose op has no rule is reported in one NoRuleError.
func Build(m *ir.Model, cfg Config) (*Program, error) {
	if m == nil || m.Graph == nil {
		return nil, errors.New("grad: model has no graph")
	}
	m = m.Clone()
	g := m.Graph
	if err := g.SortTopologically(); err != nil {
		return nil, fmt.Errorf("grad: %w", err)
	}
	b := &builder{p: &Program{model: m, cfg: cfg, slotOf: map[string]int{}, staticCache: map[string][][]*kernel.Tensor{}, arena: newArena()},
		slot: map[*ir.Value]int{}}
	b.p.threads = cfg.Threads
	if b.p.threads <= 0 {
		b.p.threads = goruntime.GOMAXPROCS(0)
	}
	if err := b.build(); err != nil {
		return nil, fmt.Errorf("grad: %w", err)
	}
	return b.p, nil
}

// Threads returns the number of goroutines a pass may occupy.
func (p *Program) Threads() int { return p.threads }

// Params returns the trainable parameters in initializer order.
func (p *Program) Params() []*Param { return p.params }

// State returns the buffers training updates without gradients (running statistics).
func (p *Program) State() []*State { return p.state }

// InputNames lists the inputs a Forward call feeds, in graph order.
func (p *Program) InputNames() []string {
	out := make([]string, len(p.feeds))
	for i, f := range p.feeds {
		out[i] = f.name
	}
	return out
}

// InputType returns the declared type of a fed input, or nil.
func (p *Program) InputType(name string) *ir.Type {
	for _, f := range p.feeds {
		if f.name == name {
			return f.typ
		}
	}
	return nil
}

// OutputNames lists the graph outputs in order.
func (p *Program) OutputNames() []string {
	out := make([]string, len(p.outputs))
	for i, s := range p.outputs {
		out[i] = p.names[s]
	}
	return out
}

// ZeroGrad clears every parameter's gradient.
func (p *Program) ZeroGrad() {
	for _, pr := range p.params {
		clear(pr.Grad)
	}
}

// Export returns a copy of the model the program was built from with the current
// parameters and running statistics installed as new initializer tensors. The graph is
// the inference graph it always was: BatchNormalization stays in inference form.
func (p *Program) Export() *ir.Model {
	m := p.model.Clone()
	byName := map[string][]float32{}
	for _, pr := range p.params {
		byName[pr.Name] = pr.Value
	}
	for _, s := range p.state {
		byName[s.Name] = s.Value
	}
	for _, v := range m.Graph.Initializers {
		data, ok := byName[v.Name]
		if !ok || v.Const == nil {
			continue
		}
		t := ir.FromFloat32(v.Name, v.Const.Dims, data)
		t.DocString, t.Metadata = v.Const.DocString, append([]ir.StringPair(nil), v.Const.Metadata...)
		v.Const = t
	}
	return m
}

// builder holds what Build needs while it classifies the graph.
type builder struct {
	p    *Program
	slot map[*ir.Value]int
	// reach marks values that lead to a target; requires marks values that depend on a
	// trainable parameter; isConst and isStatic classify the rest.
	reach, requires, isConst, isStatic map[*ir.Value]bool
	constVal                           map[*ir.Value]*kernel.Tensor
	stateVal                           map[*ir.Value]*State
}

func (b *builder) slotFor(v *ir.Value) int {
	if s, ok := b.slot[v]; ok {
		return s
	}
	s := b.p.nSlots
	b.p.nSlots++
	b.slot[v] = s
	b.p.names = append(b.p.names, v.Name)
	if v.Name != "" {
		b.p.slotOf[v.Name] = s
	}
	return s
}

func (b *builder) build() error {
	p, g := b.p, b.p.model.Graph
	for _, n := range g.Nodes() {
		if len(n.Subgraphs()) > 0 {
			return fmt.Errorf("%s: control flow is not supported in training", n.Describe())
		}
	}
	inits := map[*ir.Value]bool{}
	for _, v := range g.Initializers {
		inits[v] = true
	}
	// Targets: the named tensors and the graph outputs.
	wanted := map[*ir.Value]bool{}
	for _, v := range g.Outputs {
		wanted[v] = true
	}
	var targets []*ir.Value
	if len(p.cfg.Targets) == 0 {
		targets = append(targets, g.Outputs...)
	}
	for _, name := range p.cfg.Targets {
		v := g.Lookup(name)
		if v == nil {
			return fmt.Errorf("target %q is not a value of the graph", name)
		}
		targets = append(targets, v)
		wanted[v] = true
	}
	// reach: values some wanted value depends on.
	b.reach = map[*ir.Value]bool{}
	nodes := g.Nodes()
	for v := range wanted {
		b.reach[v] = true
	}
	for i := len(nodes) - 1; i >= 0; i-- {
		n := nodes[i]
		if !anyOut(n, b.reach) {
			continue
		}
		for _, v := range n.Inputs() {
			if v != nil {
				b.reach[v] = true
			}
		}
	}
	// Trainable parameters and running statistics.
	stateOf := map[*ir.Value]bool{}
	for _, n := range nodes {
		if isOp(n, "BatchNormalization") {
			for _, i := range []int{3, 4} {
				if v := n.Input(i); v != nil && inits[v] && v.Const != nil && v.Const.DataType == ir.Float {
					stateOf[v] = true
				}
			}
		}
	}
	trainable := map[*ir.Value]bool{}
	b.stateVal = map[*ir.Value]*State{}
	for _, n := range nodes {
		if !anyOut(n, b.reach) {
			continue
		}
		def, hasRule := ruleFor(n)
		for i, v := range n.Inputs() {
			if v == nil || !inits[v] || v.Const == nil || v.Const.DataType != ir.Float || stateOf[v] {
				continue
			}
			if hasRule && def.nondiff(i) {
				continue
			}
			if p.cfg.Trainable != nil {
				trainable[v] = p.cfg.Trainable(v.Name, v.Const)
			} else if numel, err := v.Const.NumElements(); err == nil && numel > 1 {
				trainable[v] = true
			}
		}
	}
	for _, v := range g.Initializers {
		if !trainable[v] {
			continue
		}
		data, err := v.Const.Float32s()
		if err != nil {
			return fmt.Errorf("initializer %q: %w", v.Name, err)
		}
		if numel, _ := v.Const.NumElements(); int64(len(data)) != numel {
			return fmt.Errorf("initializer %q: %d values for shape %v", v.Name, len(data), v.Const.Dims)
		}
		pr := &Param{Name: v.Name, Shape: append([]int64(nil), v.Const.Dims...), Value: data, Grad: make([]float32, len(data))}
		p.params = append(p.params, pr)
		p.paramAt = append(p.paramAt, b.slotFor(v))
	}
	if len(p.params) == 0 {
		return ErrNothingToTrain
	}
	for _, v := range g.Initializers {
		if !stateOf[v] || trainable[v] {
			continue
		}
		data, err := v.Const.Float32s()
		if err != nil {
			return fmt.Errorf("initializer %q: %w", v.Name, err)
		}
		s := &State{Name: v.Name, Shape: append([]int64(nil), v.Const.Dims...), Value: data}
		p.state = append(p.state, s)
		p.stateAt = append(p.stateAt, b.slotFor(v))
		b.stateVal[v] = s
	}
	// Constants: initializers neither trained nor state, then Constant nodes and nodes
	// reading only constants, folded now.
	b.isConst, b.isStatic, b.requires = map[*ir.Value]bool{}, map[*ir.Value]bool{}, map[*ir.Value]bool{}
	b.constVal = map[*ir.Value]*kernel.Tensor{}
	for _, v := range g.Initializers {
		if trainable[v] {
			b.requires[v] = true
			continue
		}
		if stateOf[v] {
			continue
		}
		t, err := constOf(v)
		if err != nil {
			return fmt.Errorf("initializer %q: %w", v.Name, err)
		}
		b.isConst[v], b.isStatic[v] = true, true
		b.constVal[v] = t
	}
	isInput := map[*ir.Value]bool{}
	for _, v := range g.Inputs {
		if inits[v] {
			continue // an initializer listed as input (IR < 4) is an initializer here
		}
		isInput[v] = true
		p.feeds = append(p.feeds, feed{name: v.Name, slot: b.slotFor(v), typ: v.Type})
	}
	var noRule []string
	for _, n := range nodes {
		if !anyOut(n, b.reach) {
			continue
		}
		if err := b.addNode(n, &noRule); err != nil {
			return err
		}
	}
	if len(noRule) > 0 {
		return &NoRuleError{Nodes: noRule}
	}
	for v, t := range b.constVal {
		if _, used := b.slot[v]; used {
			p.consts = append(p.consts, constSlot{b.slot[v], t})
		}
	}
	sort.Slice(p.consts, func(i, j int) bool { return p.consts[i].slot < p.consts[j].slot })
	for _, v := range g.Outputs {
		p.outputs = append(p.outputs, b.slotFor(v))
	}
	for _, v := range targets {
		p.targets = append(p.targets, b.slotFor(v))
	}
	for _, v := range targets {
		if b.requires[v] {
			return nil
		}
	}
	return fmt.Errorf("no target depends on a trainable initializer (targets: %s)", valueNames(targets))
}

// addNode classifies one node that leads to a target and compiles it.
func (b *builder) addNode(n *ir.Node, noRule *[]string) error {
	p := b.p
	opset, ok := p.model.Opset(n.Domain)
	if !ok {
		return fmt.Errorf("%s: the model imports no opset for domain %q", n.Describe(), n.Domain)
	}
	allConst, allStatic := true, true
	for _, v := range n.Inputs() {
		if v == nil {
			continue
		}
		allConst = allConst && b.isConst[v]
		allStatic = allStatic && b.isStatic[v]
	}
	shapeOp := isOp(n, "Shape") || isOp(n, "Size")
	info := b.nodeInfo(n, opset)
	switch {
	case isOp(n, "Constant") || (allConst && !shapeOp && !isOp(n, "Dropout")):
		k, err := runtimeKernel(info)
		if err != nil {
			return err
		}
		outs, err := k.Run(&kernel.Context{}, b.inputsOf(n))
		if err != nil {
			return fmt.Errorf("%s: fold constant: %w", n.Describe(), err)
		}
		for i, v := range n.Outputs() {
			if v != nil && i < len(outs) {
				b.isConst[v], b.isStatic[v] = true, true
				b.constVal[v] = outs[i]
			}
		}
		return nil
	case shapeOp || allStatic:
		k, err := runtimeKernel(info)
		if err != nil {
			return err
		}
		st := &step{node: n, op: forwardOnly{k}, static: true, needGrad: make([]bool, len(n.Inputs()))}
		st.in, st.out = b.slotsOf(n.Inputs()), b.slotsOf(n.Outputs())
		for _, v := range n.Outputs() {
			if v != nil {
				b.isStatic[v] = true
			}
		}
		p.steps = append(p.steps, st)
		return nil
	}
	st := &step{node: n, needGrad: make([]bool, len(n.Inputs()))}
	def, hasRule := ruleFor(n)
	for i, v := range n.Inputs() {
		if v == nil || !b.requires[v] || (hasRule && def.nondiff(i)) {
			continue
		}
		st.needGrad[i] = true
		st.grad = true
	}
	if st.grad {
		for _, v := range n.Outputs() {
			if v != nil && isFloatValue(v) {
				b.requires[v] = true
			}
		}
	}
	nb := &nodeBuild{node: n, opset: opset, info: info, needGrad: st.needGrad, freezeBN: p.cfg.FreezeBatchNorm}
	for i, v := range n.Inputs() {
		if s := b.stateVal[v]; v != nil && s != nil {
			nb.state = append(nb.state, stateInput{index: i, state: s})
		}
	}
	var err error
	switch {
	case hasRule:
		st.op, err = def.build(nb)
	case st.grad:
		*noRule = append(*noRule, n.Describe())
		return nil
	default:
		var k kernel.Kernel
		k, err = runtimeKernel(info)
		st.op = forwardOnly{k}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", n.Describe(), err)
	}
	st.in, st.out = b.slotsOf(n.Inputs()), b.slotsOf(n.Outputs())
	p.steps = append(p.steps, st)
	return nil
}

func (b *builder) slotsOf(vs []*ir.Value) []int {
	out := make([]int, len(vs))
	for i, v := range vs {
		if v == nil {
			out[i] = -1
			continue
		}
		out[i] = b.slotFor(v)
	}
	return out
}

func (b *builder) inputsOf(n *ir.Node) []*kernel.Tensor {
	out := make([]*kernel.Tensor, len(n.Inputs()))
	for i, v := range n.Inputs() {
		if v != nil {
			out[i] = b.constVal[v]
		}
	}
	return out
}

// nodeInfo describes n to a runtime kernel factory. Only values that never change are
// passed as constants: a kernel may pre-pack a constant weight, which must not happen to a
// weight the optimizer updates.
func (b *builder) nodeInfo(n *ir.Node, opset int64) *kernel.NodeInfo {
	info := &kernel.NodeInfo{Node: n, Opset: opset}
	for _, v := range n.Inputs() {
		if v == nil {
			info.InputTypes = append(info.InputTypes, nil)
			info.Consts = append(info.Consts, nil)
			continue
		}
		info.InputTypes = append(info.InputTypes, v.Type)
		info.Consts = append(info.Consts, b.constVal[v])
	}
	for _, v := range n.Outputs() {
		if v == nil {
			info.OutputTypes = append(info.OutputTypes, nil)
			continue
		}
		info.OutputTypes = append(info.OutputTypes, v.Type)
	}
	info.Compile = func(*ir.Graph) (kernel.Program, error) {
		return nil, errors.New("subgraphs are not supported in training")
	}
	return info
}

// runtimeKernel makes the runtime's kernel for a node.
func runtimeKernel(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	dt := ir.Undefined
	for _, t := range info.InputTypes {
		if t != nil && t.Kind == ir.TensorKind {
			dt = t.Elem
			break
		}
	}
	def, err := kernel.Lookup(n.Domain, n.OpType, info.Opset, dt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Describe(), err)
	}
	k, err := def.New(info)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Describe(), err)
	}
	if k == nil {
		return nil, fmt.Errorf("%s: kernel factory returned no kernel", n.Describe())
	}
	return k, nil
}

func constOf(v *ir.Value) (*kernel.Tensor, error) {
	if v.Const != nil {
		return kernel.FromIR(v.Const)
	}
	return nil, errors.New("sparse initializers are not supported in training")
}

func anyOut(n *ir.Node, set map[*ir.Value]bool) bool {
	for _, v := range n.Outputs() {
		if v != nil && set[v] {
			return true
		}
	}
	return false
}

func isOp(n *ir.Node, op string) bool {
	return n.OpType == op && (n.Domain == "" || n.Domain == "ai.onnx")
}

// isFloatValue reports whether v is (or may be, when untyped) a float32 tensor.
func isFloatValue(v *ir.Value) bool {
	return v.Type == nil || v.Type.Elem == ir.Undefined || v.Type.Elem == ir.Float
}

func valueNames(vs []*ir.Value) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = fmt.Sprintf("%q", v.Name)
	}
	return strings.Join(q, ", ")
}
