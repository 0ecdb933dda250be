package optim

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/train/grad"
)

// Optimizer updates parameters in place from their gradients.
type Optimizer interface {
	// Step applies one update with learning rate lr to every parameter.
	Step(params []*grad.Param, lr float64)
	// State returns the optimizer's buffers for a checkpoint; Load restores them.
	State() State
	Load(State) error
}

// State is an optimizer's resumable state.
type State struct {
	Kind string
	// Steps counts the updates made so far (AdamW's bias correction needs it).
	Steps int64
	// Buffers holds per-parameter buffers, keyed by kind/parameter name ("momentum/w").
	Buffers map[string][]float32
}

// SGD is stochastic gradient descent as torch.optim.SGD computes it: d = g + wd·w;
// with momentum, b = μ·b + (1 − dampening)·d (b = d on the first step) and d = b, or
// d + μ·b with Nesterov; then w −= lr·d.
type SGD struct {
	Momentum, Dampening, WeightDecay float64
	Nesterov                         bool
	bufs                             map[string][]float32
	steps                            int64
}

// Step implements Optimizer.
func (o *SGD) Step(params []*grad.Param, lr float64) {
	if o.bufs == nil {
		o.bufs = map[string][]float32{}
	}
	wd, mu, damp := float32(o.WeightDecay), float32(o.Momentum), float32(1-o.Dampening)
	lr32 := float32(lr)
	for _, p := range params {
		buf, started := o.bufs[p.Name]
		if mu != 0 && !started {
			buf = make([]float32, len(p.Value))
			o.bufs[p.Name] = buf
		}
		for i, g := range p.Grad {
			d := g + wd*p.Value[i]
			if mu != 0 {
				if started {
					buf[i] = mu*buf[i] + damp*d
				} else {
					buf[i] = d
				}
				if o.Nesterov {
					d += mu * buf[i]
				} else {
					d = buf[i]
				}
			}
			p.Value[i] -= lr32 * d
		}
	}
	o.steps++
}

// State implements Optimizer.
func (o *SGD) State() State {
	return State{Kind: "sgd", Steps: o.steps, Buffers: prefixed("momentum/", o.bufs)}
}

// Load implements Optimizer.
func (o *SGD) Load(s State) error {
	if s.Kind != "sgd" {
		return fmt.Errorf("optimizer state is %q, not sgd", s.Kind)
	}
	o.steps, o.bufs = s.Steps, unprefixed("momentum/", s.Buffers)
	return nil
}

// AdamW is torch.optim.AdamW: w −= lr·wd·w (decoupled decay), then the Adam update with
// bias-corrected moments, w −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε).
type AdamW struct {
	Beta1, Beta2, Eps, WeightDecay float64
	m, v                           map[string][]float32
	steps                          int64
}

// NewAdamW returns AdamW with PyTorch's defaults (β 0.9/0.999, ε 1e-8, weight decay 0.01).
func NewAdamW() *AdamW { return &AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01} }

// Step implements Optimizer.
func (o *AdamW) Step(params []*grad.Param, lr float64) {
	if o.m == nil {
		o.m, o.v = map[string][]float32{}, map[string][]float32{}
	}
	o.steps++
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	c1 := 1 - math.Pow(o.Beta1, float64(o.steps))
	c2 := math.Sqrt(1 - math.Pow(o.Beta2, float64(o.steps)))
	stepSize := float32(lr / c1)
	decay := float32(1 - lr*o.WeightDecay)
	eps, c2f := float32(o.Eps), float32(c2)
	for _, p := range params {
		m, v := o.m[p.Name], o.v[p.Name]
		if m == nil {
			m, v = make([]float32, len(p.Value)), make([]float32, len(p.Value))
			o.m[p.Name], o.v[p.Name] = m, v
		}
		for i, g := range p.Grad {
			w := p.Value[i] * decay
			m[i] = b1*m[i] + (1-b1)*g
			v[i] = b2*v[i] + (1-b2)*g*g
			denom := float32(math.Sqrt(float64(v[i])))/c2f + eps
			p.Value[i] = w - stepSize*m[i]/denom
		}
	}
}

// State implements Optimizer.
func (o *AdamW) State() State {
	b := prefixed("m/", o.m)
	for k, v := range prefixed("v/", o.v) {
		b[k] = v
	}
	return State{Kind: "adamw", Steps: o.steps, Buffers: b}
}

// Load implements Optimizer.
func (o *AdamW) Load(s State) error {
	if s.Kind != "adamw" {
		return fmt.Errorf("optimizer state is %q, not adamw", s.Kind)
	}
	o.steps, o.m, o.v = s.Steps, unprefixed("m/", s.Buffers), unprefixed("v/", s.Buffers)
	return nil
}

func prefixed(prefix string, m map[string][]float32) map[string][]float32 {
	out := make(map[string][]float32, len(m))
	for k, v := range m {
		out[prefix+k] = v
	}
	return out
}

func unprefixed(prefix string, m map[string][]float32) map[string][]float32 {
	out := map[string][]float32{}
	for k, v := range m {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			out[k[len(prefix):]] = append([]float32(nil), v...)
		}
	}
	return out
}

// ClipGradNorm scales every gradient down so that their joint L2 norm is at most max,
// as torch.nn.utils.clip_grad_norm_ does (factor max/(norm + 1e-6)), and returns the norm
// before clipping.
func ClipGradNorm(params []*grad.Param, max float64) float64 {
	var sq float64
	for _, p := range params {
		for _, g := range p.Grad {
			sq += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(sq)
	if max > 0 && norm > max {
		f := float32(max / (norm + 1e-6))
		for _, p := range params {
			for i := range p.Grad {
				p.Grad[i] *= f
			}
		}
	}
	return norm
}
