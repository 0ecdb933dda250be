package fused

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

// activation is an epilogue applied to every element of a kernel's output.
type activation struct {
	kind   string
	params [2]float32
}

// parseActivation reads the activation and activation_params attributes of a fused node.
func parseActivation(n *ir.Node) (activation, error) {
	a := activation{kind: n.AttrString("activation", "")}
	params := n.AttrFloats("activation_params", nil)
	want := 0
	switch a.kind {
	case "", prepare.ActRelu, prepare.ActHardSwish, prepare.ActSigmoid, prepare.ActSiLU, prepare.ActTanh:
	case prepare.ActLeakyRelu:
		want = 1
	case prepare.ActClip, prepare.ActHardSigmoid:
		want = 2
	default:
		return a, fmt.Errorf("unknown activation %q", a.kind)
	}
	if len(params) != want {
		return a, fmt.Errorf("activation %s takes %d parameters, got %d", a.kind, want, len(params))
	}
	copy(a.params[:], params)
	return a, nil
}

// apply computes the activation in place. The loops are written per kind so that each
// stays a simple pass the compiler keeps free of calls and bounds checks.
func (a activation) apply(y []float32) {
	switch a.kind {
	case "":
	case prepare.ActRelu:
		for i, v := range y {
			y[i] = max(v, 0)
		}
	case prepare.ActLeakyRelu:
		alpha := a.params[0]
		for i, v := range y {
			if v < 0 {
				y[i] = v * alpha
			}
		}
	case prepare.ActClip:
		lo, hi := a.params[0], a.params[1]
		for i, v := range y {
			y[i] = min(max(v, lo), hi)
		}
	case prepare.ActHardSigmoid:
		alpha, beta := a.params[0], a.params[1]
		for i, v := range y {
			y[i] = min(max(alpha*v+beta, 0), 1)
		}
	case prepare.ActHardSwish:
		for i, v := range y {
			y[i] = v * min(max(v/6+0.5, 0), 1)
		}
	case prepare.ActSigmoid:
		for i, v := range y {
			y[i] = sigmoid(v)
		}
	case prepare.ActSiLU:
		for i, v := range y {
			y[i] = v * sigmoid(v)
		}
	case prepare.ActTanh:
		for i, v := range y {
			y[i] = float32(math.Tanh(float64(v)))
		}
	}
}

// sigmoid matches the reference Sigmoid kernel's formula.
func sigmoid(v float32) float32 {
	if v >= 0 {
		return float32(1 / (1 + math.Exp(-float64(v))))
	}
	e := math.Exp(float64(v))
	return float32(e / (1 + e))
}

// clamp returns the bounds of an activation that is a clamp (Relu, Clip), which the
// tile kernels apply as they store.
func (a activation) clamp() (lo, hi float32, ok bool) {
	switch a.kind {
	case prepare.ActRelu:
		return 0, float32(math.Inf(1)), true
	case prepare.ActClip:
		return a.params[0], a.params[1], true
	}
	return 0, 0, false
}
