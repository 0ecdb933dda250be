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

// zeros returns n zeroed float64s, weighed against the memory budget: gradients follow
// the forward shapes, which a model's data may set.
func zeros(n int) ([]float64, error) { return kernel.MakeScratch[float64](n) }

// unbroadcast sums g (of the broadcast output shape) down to shape, undoing numpy
// broadcasting: the gradient of a broadcast operand is the sum over the copies it made.
func unbroadcast(g *dense, shape []int64) (*dense, error) {
	out := &dense{shape: append([]int64{}, shape...)}
	if kernel.SameShape(g.shape, shape) {
		data, err := zeros(len(g.data))
		if err != nil {
			return nil, err
		}
		copy(data, g.data)
		out.data = data
		return out, nil
	}
	var err error
	if out.data, err = kernel.MakeScratchShaped[float64](shape); err != nil {
		return nil, err
	}
	offs, err := kernel.BroadcastOffsets(shape, g.shape)
	if err != nil {
		return nil, err
	}
	for i, off := range offs {
		out.data[off] += g.data[i]
	}
	return out, nil
}

// broadcastValues returns x's elements repeated to shape (x must broadcast to it).
func broadcastValues(x *dense, shape []int64) ([]float64, error) {
	if kernel.SameShape(x.shape, shape) {
		return x.data, nil
	}
	offs, err := kernel.BroadcastOffsets(x.shape, shape)
	if err != nil {
		return nil, err
	}
	out, err := zeros(len(offs))
	if err != nil {
		return nil, err
	}
	for i, o := range offs {
		out[i] = x.data[o]
	}
	return out, nil
}

func scaled(g *dense, f float64) (*dense, error) {
	data, err := zeros(len(g.data))
	if err != nil {
		return nil, err
	}
	for i, v := range g.data {
		data[i] = f * v
	}
	return &dense{shape: g.shape, data: data}, nil
}

// unbroadcastBoth returns the gradients of a and b from ga and gb of the output's shape.
func unbroadcastBoth(ga *dense, a []int64, gb *dense, b []int64) ([]*dense, error) {
	da, err := unbroadcast(ga, a)
	if err != nil {
		return nil, err
	}
	db, err := unbroadcast(gb, b)
	if err != nil {
		return nil, err
	}
	return []*dense{da, db}, nil
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
	return unbroadcastBoth(g, a.shape, g, b.shape)
}

// d(a-b) = da - db.
func subGrad(n *ir.Node, in, _, gradOut []*dense) ([]*dense, error) {
	a, b, g, err := binaryOperands(n, in, gradOut)
	if err != nil {
		return nil, err
	}
	neg, err := scaled(g, -1)
	if err != nil {
		return nil, err
	}
	return unbroadcastBoth(g, a.shape, neg, b.shape)
}

// d(a·b) = b·da + a·db.
func mulGrad(n *ir.Node, in, _, gradOut []*dense) ([]*dense, error) {
	a, b, g, err := binaryOperands(n, in, gradOut)
	if err != nil {
		return nil, err
	}
	av, err := broadcastValues(a, g.shape)
	if err != nil {
		return nil, err
	}
	bv, err := broadcastValues(b, g.shape)
	if err != nil {
		return nil, err
	}
	ga := &dense{shape: g.shape}
	gb := &dense{shape: g.shape}
	if ga.data, err = zeros(g.size()); err != nil {
		return nil, err
	}
	if gb.data, err = zeros(g.size()); err != nil {
		return nil, err
	}
	for i, gv := range g.data {
		ga.data[i] = gv * bv[i]
		gb.data[i] = gv * av[i]
	}
	return unbroadcastBoth(ga, a.shape, gb, b.shape)
}

// d(-a) = -da.
func negGrad(n *ir.Node, in, _, gradOut []*dense) ([]*dense, error) {
	if len(in) != 1 || len(gradOut) != 1 {
		return nil, fmt.Errorf("%s: want one input and one output", n.Describe())
	}
	g, err := scaled(gradOut[0], -1)
	if err != nil {
		return nil, err
	}
	return []*dense{g}, nil
}

// d(identity(a)) = da.
func identityGrad(n *ir.Node, in, _, gradOut []*dense) ([]*dense, error) {
	if len(in) != 1 || len(gradOut) != 1 {
		return nil, fmt.Errorf("%s: want one input and one output", n.Describe())
	}
	return []*dense{gradOut[0]}, nil
}
