package fused

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/internal/linalg"
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
	case "", prepare.ActRelu, prepare.ActHardSwish, prepare.ActSigmoid, prepare.ActSiLU, prepare.ActTanh, prepare.ActGelu:
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

// apply computes the activation in place, with linalg's vector routines where there is
// one.
func (a activation) apply(y []float32) {
	switch a.kind {
	case "":
	case prepare.ActRelu:
		linalg.Clamp(y, 0, float32(math.Inf(1)))
	case prepare.ActLeakyRelu:
		alpha := a.params[0]
		for i, v := range y {
			if v < 0 {
				y[i] = v * alpha
			}
		}
	case prepare.ActClip:
		linalg.Clamp(y, a.params[0], a.params[1])
	case prepare.ActHardSigmoid:
		alpha, beta := a.params[0], a.params[1]
		for i, v := range y {
			y[i] = min(max(alpha*v+beta, 0), 1)
		}
	case prepare.ActHardSwish:
		linalg.HardSwish(y)
	case prepare.ActSigmoid:
		linalg.Sigmoid(y)
	case prepare.ActSiLU:
		linalg.SiLU(y)
	case prepare.ActGelu:
		linalg.Gelu(y)
	case prepare.ActTanh:
		for i, v := range y {
			y[i] = float32(math.Tanh(float64(v)))
		}
	}
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
