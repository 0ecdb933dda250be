package seq2

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "CausalConvWithState", SinceVersion: 27, Types: floatTypes, New: newCausalConv})
}

// causalConv is CausalConvWithState-27: a depthwise 1-D convolution over
// input[B, C, L] that sees only the current and the k-1 previous positions, the previous
// ones coming from past_state[B, C, k-1] (zeros when absent); it also returns the last k-1
// positions of that padded sequence as present_state, for the next call.
type causalConv struct {
	node *ir.Node
	silu bool
}

func newCausalConv(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	k := &causalConv{node: n}
	switch act := n.AttrString("activation", "none"); act {
	case "none", "":
	case "silu", "swish":
		k.silu = true
	default:
		return nil, opErr(n, "activation %q is not one of none, silu, swish", act)
	}
	return k, nil
}

func (k *causalConv) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	xt, wt := kernel.Input(inputs, 0), kernel.Input(inputs, 1)
	if xt == nil || wt == nil {
		return nil, opErr(k.node, "inputs input and weight are required")
	}
	if len(xt.Shape) != 3 || len(wt.Shape) != 3 || wt.Shape[0] != xt.Shape[1] || wt.Shape[1] != 1 || wt.Shape[2] < 1 {
		return nil, opErr(k.node, "input %v and weight %v must be [B, C, L] and [C, 1, k]", xt.Shape, wt.Shape)
	}
	b, c, l, kw := int(xt.Shape[0]), int(xt.Shape[1]), int(xt.Shape[2]), int(wt.Shape[2])
	hist := kw - 1
	x, err := kernel.FloatsOf(xt)
	if err != nil {
		return nil, opErr(k.node, "input: %w", err)
	}
	w, err := kernel.FloatsOf(wt)
	if err != nil {
		return nil, opErr(k.node, "weight: %w", err)
	}
	var bias, past []float64
	if bt := kernel.Input(inputs, 2); bt != nil {
		if bt.NumElements() != c {
			return nil, opErr(k.node, "bias %v must be [%d]", bt.Shape, c)
		}
		if bias, err = kernel.FloatsOf(bt); err != nil {
			return nil, opErr(k.node, "bias: %w", err)
		}
	}
	if pt := kernel.Input(inputs, 3); pt != nil {
		if len(pt.Shape) != 3 || int(pt.Shape[0]) != b || int(pt.Shape[1]) != c || int(pt.Shape[2]) != hist {
			return nil, opErr(k.node, "past_state %v must be [%d, %d, %d]", pt.Shape, b, c, hist)
		}
		if past, err = kernel.FloatsOf(pt); err != nil {
			return nil, opErr(k.node, "past_state: %w", err)
		}
	}
	out, err := scratch(b, c, l)
	if err != nil {
		return nil, err
	}
	state, err := scratch(b, c, hist)
	if err != nil {
		return nil, err
	}
	padded, err := scratch(hist + l)
	if err != nil {
		return nil, err
	}
	// b·c ≤ len(out) + len(state) unless both are empty (l = hist = 0), when the loop would
	// count out sizes an empty input may set to anything, for nothing.
	for bc := 0; bc < b*c && len(out)+len(state) > 0; bc++ {
		ch := bc % c
		if past != nil {
			copy(padded, past[bc*hist:(bc+1)*hist])
		} else {
			clear(padded[:hist])
		}
		copy(padded[hist:], x[bc*l:(bc+1)*l])
		wk := w[ch*kw : (ch+1)*kw]
		for t := 0; t < l; t++ {
			s := 0.0
			for j, wv := range wk {
				s += wv * padded[t+j]
			}
			if bias != nil {
				s += bias[ch]
			}
			if k.silu {
				s = s / (1 + math.Exp(-s))
			}
			out[bc*l+t] = s
		}
		copy(state[bc*hist:(bc+1)*hist], padded[l:])
	}
	y, err := kernel.FromFloat64s(ctx, xt.DType, xt.Shape, out)
	if err != nil {
		return nil, opErr(k.node, "output: %w", err)
	}
	st, err := kernel.FromFloat64s(ctx, xt.DType, []int64{int64(b), int64(c), int64(hist)}, state)
	if err != nil {
		return nil, opErr(k.node, "present_state: %w", err)
	}
	return []*kernel.Tensor{y, st}, nil
}
