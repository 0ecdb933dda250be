package grad

import (
	"fmt"
	"sort"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// ruleDef is how one operator is differentiated.
type ruleDef struct {
	// diff is a bit mask of the inputs that carry gradient; shapes, indices, axes and
	// running statistics do not.
	diff uint64
	// build compiles a node of the op.
	build func(b *nodeBuild) (op, error)
}

// allInputs marks every input differentiable.
const allInputs = ^uint64(0)

func inputs(idx ...int) uint64 {
	var m uint64
	for _, i := range idx {
		m |= 1 << i
	}
	return m
}

func (d ruleDef) nondiff(i int) bool { return i >= 64 || d.diff&(1<<i) == 0 }

// rules maps default-domain operators to their gradient rules; rules_*.go fill it.
var rules = map[string]ruleDef{}

func register(op string, def ruleDef) {
	if _, dup := rules[op]; dup {
		panic("grad: rule for " + op + " registered twice")
	}
	rules[op] = def
}

func ruleFor(n *ir.Node) (ruleDef, bool) {
	if n.Domain != "" && n.Domain != "ai.onnx" {
		return ruleDef{}, false
	}
	d, ok := rules[n.OpType]
	return d, ok
}

// Ops lists the operators that have a gradient rule, sorted.
func Ops() []string {
	out := make([]string, 0, len(rules))
	for op := range rules {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// nodeBuild is what a rule's build sees.
type nodeBuild struct {
	node     *ir.Node
	opset    int64
	info     *kernel.NodeInfo
	needGrad []bool
	// state lists inputs that are running statistics the program owns.
	state    []stateInput
	freezeBN bool
}

type stateInput struct {
	index int
	state *State
}

// kernel returns the runtime kernel that computes the node's forward values.
func (b *nodeBuild) kernel() (kernel.Kernel, error) { return runtimeKernel(b.info) }

// kernelFwd computes an op's forward values with the runtime kernel; ops embed it and add
// their backward.
type kernelFwd struct{ k kernel.Kernel }

func (f kernelFwd) forward(c *runCtx, in []*kernel.Tensor) ([]*kernel.Tensor, any, error) {
	out, err := f.k.Run(&c.kctx, in)
	return out, nil, err
}

// withKernel builds an op whose forward is the runtime kernel.
func withKernel[T op](make func(b *nodeBuild, k kernelFwd) (T, error)) func(b *nodeBuild) (op, error) {
	return func(b *nodeBuild) (op, error) {
		k, err := b.kernel()
		if err != nil {
			return nil, err
		}
		return make(b, kernelFwd{k})
	}
}

// floats returns t's elements, which must be float32.
func floats(t *kernel.Tensor) ([]float32, error) {
	if t == nil {
		return nil, fmt.Errorf("missing input")
	}
	d, ok := t.Data.([]float32)
	if !ok {
		return nil, fmt.Errorf("training runs in float32; got %s", t.DType)
	}
	return d, nil
}

// gradOrZero returns g's elements, or a zeroed buffer of n elements when no gradient
// reached the output.
func gradOrZero(c *runCtx, g *kernel.Tensor, n int) []float32 {
	if g == nil {
		return c.a.zeros(n)
	}
	return g.Float32s()
}

// newGrad allocates the gradient of an input of the given shape.
func newGrad(c *runCtx, shape []int64) *kernel.Tensor { return c.a.tensor(shape) }

// newZeroGrad allocates a zeroed gradient of the given shape.
func newZeroGrad(c *runCtx, shape []int64) *kernel.Tensor { return c.a.zerosTensor(shape) }
