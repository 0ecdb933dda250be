package training

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// dense is a float64 tensor the gradient computation works on.
type dense struct {
	shape []int64
	data  []float64
}

func (d *dense) size() int { return len(d.data) }

// gradRule computes the gradients of a node's inputs from the forward values of its
// inputs (in) and outputs (out) and the gradients reaching its outputs (gradOut, nil for
// an output no gradient flows into). It returns one entry per input, nil where the
// input gets no gradient (an integer shape operand, say).
type gradRule func(n *ir.Node, in, out, gradOut []*dense) ([]*dense, error)

// gradRules maps default-domain operators to their gradient rules; the Gradient operator
// can differentiate through exactly these ops. Add an op by adding its rule here.
var gradRules = map[string]gradRule{
	"Add":      addGrad,
	"Sub":      subGrad,
	"Mul":      mulGrad,
	"Neg":      negGrad,
	"Identity": identityGrad,
}

// lookupGradRule finds the rule for a node, or explains that the op has none.
func lookupGradRule(n *ir.Node) (gradRule, error) {
	if ir.IsDefaultDomain(n.Domain) {
		if r, ok := gradRules[n.OpType]; ok {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%s: no gradient rule for op %s", n.Describe(), n.OpType)
}

// unbroadcast sums g (of the broadcast output shape) down to shape, undoing numpy
// broadcasting: the gradient of a broadcast operand is the sum over the copies it made.
func unbroadcast(g *dense, shape []int64) *dense {
	out := &dense{shape: append([]int64{}, shape...)}
	if kernel.SameShape(g.shape, shape) {
		out.data = append([]float64(nil), g.data...)
		return out
	}
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	out.data = make([]float64, n)
	for i, off := range kernel.BroadcastOffsets(shape, g.shape) {
		out.data[off] += g.data[i]
	}
	return out
}

// broadcastValues returns x's elements repeated to shape (x must broadcast to it).
func broadcastValues(x *dense, shape []int64) []float64 {
	if kernel.SameShape(x.shape, shape) {
		return x.data
	}
	offs := kernel.BroadcastOffsets(x.shape, shape)
	out := make([]float64, len(offs))
	for i, o := range offs {
		out[i] = x.data[o]
	}
	return out
}

func scaled(g *dense, f float64) *dense {
	out := &dense{shape: g.shape, data: make([]float64, len(g.data))}
	for i, v := range g.data {
		out.data[i] = f * v
	}
	return out
}

func binaryOperands(n *ir.Node, in, gradOut []*dense) (a, b, g *dense, err error) {
	if len(in) != 2 || in[0] == nil || in[1] == nil || len(gradOut) != 1 {
		return nil, nil, nil, fmt.Errorf("%s: want two inputs and one output", n.Describe())
	}
	return in[0], in[1], gradOut[0], nil
}

// d(a+b) = da + db.
func addGrad(n *ir.Node, in, _, gradOut []*dense) ([]*dense, error) {
	a, b, g, err := binaryOperands(n, in, gradOut)
	if err != nil {
		return nil, err
	}
	return []*dense{unbroadcast(g, a.shape), unbroadcast(g, b.shape)}, nil
}

// d(a-b) = da - db.
func subGrad(n *ir.Node, in, _, gradOut []*dense) ([]*dense, error) {
	a, b, g, err := binaryOperands(n, in, gradOut)
	if err != nil {
		return nil, err
	}
	return []*dense{unbroadcast(g, a.shape), unbroadcast(scaled(g, -1), b.shape)}, nil
}

// d(a·b) = b·da + a·db.
func mulGrad(n *ir.Node, in, _, gradOut []*dense) ([]*dense, error) {
	a, b, g, err := binaryOperands(n, in, gradOut)
	if err != nil {
		return nil, err
	}
	av, bv := broadcastValues(a, g.shape), broadcastValues(b, g.shape)
	ga := &dense{shape: g.shape, data: make([]float64, g.size())}
	gb := &dense{shape: g.shape, data: make([]float64, g.size())}
	for i, gv := range g.data {
		ga.data[i] = gv * bv[i]
		gb.data[i] = gv * av[i]
	}
	return []*dense{unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)}, nil
}

// d(-a) = -da.
func negGrad(n *ir.Node, in, _, gradOut []*dense) ([]*dense, error) {
	if len(in) != 1 || len(gradOut) != 1 {
		return nil, fmt.Errorf("%s: want one input and one output", n.Describe())
	}
	return []*dense{scaled(gradOut[0], -1)}, nil
}

// d(identity(a)) = da.
func identityGrad(n *ir.Node, in, _, gradOut []*dense) ([]*dense, error) {
	if len(in) != 1 || len(gradOut) != 1 {
		return nil, fmt.Errorf("%s: want one input and one output", n.Describe())
	}
	return []*dense{gradOut[0]}, nil
}
