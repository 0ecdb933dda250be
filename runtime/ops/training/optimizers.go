package training

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		kernel.KernelDef{Domain: trainingDomain, Op: "Adagrad", SinceVersion: 1, New: newAdagrad},
		kernel.KernelDef{Domain: trainingDomain, Op: "Adam", SinceVersion: 1, New: newAdam},
		kernel.KernelDef{Domain: trainingDomain, Op: "Momentum", SinceVersion: 1, New: newMomentum},
	)
}

// optimizer is the shared frame of the three optimizers: inputs R (learning rate), T
// (update count), then groups of tensors — X..., G..., and per-optimizer state tensors,
// each group holding one tensor per optimized variable — and outputs X_new..., then the
// new state groups. step updates one variable; all its slices have X's length.
type optimizer struct {
	node   *ir.Node
	groups int // tensor groups among the inputs after R and T (X, G and the states)
	// step computes the new X and the new states (out[0] is X_new, out[1:] the states)
	// from in (X, G, states...) for learning rate r and count t.
	step func(r float64, t int64, in, out [][]float64)
}

func (o *optimizer) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	if len(inputs) < 2+o.groups || (len(inputs)-2)%o.groups != 0 {
		return nil, opErr(o.node, "%d inputs do not form R, T and %d groups of tensors", len(inputs), o.groups)
	}
	r, err := scalarFloat(kernel.Input(inputs, 0))
	if err != nil {
		return nil, opErr(o.node, "R: %w", err)
	}
	t, err := scalarInt(kernel.Input(inputs, 1))
	if err != nil {
		return nil, opErr(o.node, "T: %w", err)
	}
	nVars := (len(inputs) - 2) / o.groups
	outGroups := o.groups - 1 // G has no output
	outs := make([]*kernel.Tensor, nVars*outGroups)
	in := make([][]float64, o.groups)
	out := make([][]float64, outGroups)
	for v := 0; v < nVars; v++ {
		x := kernel.Input(inputs, 2+v)
		if x == nil {
			return nil, opErr(o.node, "input %d is missing", 2+v)
		}
		for g := 0; g < o.groups; g++ {
			ti := kernel.Input(inputs, 2+g*nVars+v)
			if ti == nil || !kernel.SameShape(ti.Shape, x.Shape) {
				return nil, opErr(o.node, "input %d must have X's shape %v, got %v", 2+g*nVars+v, x.Shape, ti)
			}
			if in[g], err = kernel.FloatsOf(ti); err != nil {
				return nil, opErr(o.node, "input %d: %w", 2+g*nVars+v, err)
			}
		}
		for g := range out {
			if out[g], err = kernel.MakeScratch[float64](x.NumElements()); err != nil {
				return nil, err
			}
		}
		o.step(r, t, in, out)
		for g := range out {
			// Outputs take the element type of the input they update.
			src := inputs[2+v]
			if g > 0 {
				src = inputs[2+(g+1)*nVars+v]
			}
			if outs[g*nVars+v], err = kernel.FromFloat64s(ctx, src.DType, x.Shape, out[g]); err != nil {
				return nil, opErr(o.node, "output %d: %w", g*nVars+v, err)
			}
		}
	}
	return outs, nil
}

// newAdagrad: X_new = X - r·G'/(√H_new + ε), H_new = H + G'², with G' = λX + G and the
// decayed rate r = R / (1 + T·decay_factor).
func newAdagrad(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	decay := float64(n.AttrFloat("decay_factor", 0))
	eps := float64(n.AttrFloat("epsilon", 0))
	norm := float64(n.AttrFloat("norm_coefficient", 0))
	return &optimizer{node: n, groups: 3, step: func(r float64, t int64, in, out [][]float64) {
		x, g, h := in[0], in[1], in[2]
		rate := r / (1 + float64(t)*decay)
		for i := range x {
			gr := norm*x[i] + g[i]
			hNew := h[i] + gr*gr
			out[1][i] = hNew
			out[0][i] = x[i] - rate*gr/(math.Sqrt(hNew)+eps)
		}
	}}, nil
}

// newAdam: V and H are running averages of G' = λX + G and G'²; X moves by the
// bias-corrected rate along V/(√H + ε), then shrinks by norm_coefficient_post.
func newAdam(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	alpha := float64(n.AttrFloat("alpha", 0.9))
	beta := float64(n.AttrFloat("beta", 0.999))
	eps := float64(n.AttrFloat("epsilon", 0))
	norm := float64(n.AttrFloat("norm_coefficient", 0))
	post := float64(n.AttrFloat("norm_coefficient_post", 0))
	return &optimizer{node: n, groups: 4, step: func(r float64, t int64, in, out [][]float64) {
		x, g, v, h := in[0], in[1], in[2], in[3]
		rate := r
		if t > 0 {
			tf := float64(t)
			rate = r * math.Sqrt(1-math.Pow(beta, tf)) / (1 - math.Pow(alpha, tf))
		}
		for i := range x {
			gr := norm*x[i] + g[i]
			vNew := alpha*v[i] + (1-alpha)*gr
			hNew := beta*h[i] + (1-beta)*gr*gr
			xNew := x[i] - rate*vNew/(math.Sqrt(hNew)+eps)
			out[0][i] = (1 - post) * xNew
			out[1][i] = vNew
			out[2][i] = hNew
		}
	}}, nil
}

// newMomentum: V_new = αV + β'G' (β' = 1 on the first update, T = 0) and X steps by R·V_new
// (standard) or by R·(G' + αV_new) (Nesterov).
func newMomentum(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	alpha := float64(n.AttrFloat("alpha", 0))
	beta := float64(n.AttrFloat("beta", 0))
	norm := float64(n.AttrFloat("norm_coefficient", 0))
	mode := n.AttrString("mode", "")
	if mode != "standard" && mode != "nesterov" {
		return nil, opErr(n, "mode %q is not standard or nesterov", mode)
	}
	nesterov := mode == "nesterov"
	return &optimizer{node: n, groups: 3, step: func(r float64, t int64, in, out [][]float64) {
		x, g, v := in[0], in[1], in[2]
		b := beta
		if t == 0 {
			b = 1
		}
		for i := range x {
			gr := norm*x[i] + g[i]
			vNew := alpha*v[i] + b*gr
			out[1][i] = vNew
			if nesterov {
				out[0][i] = x[i] - r*(gr+alpha*vNew)
			} else {
				out[0][i] = x[i] - r*vNew
			}
		}
	}}, nil
}
