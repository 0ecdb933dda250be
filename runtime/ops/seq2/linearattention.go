package seq2

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "LinearAttention", SinceVersion: 27, Types: floatTypes, New: newLinearAttention})
}

// The recurrences of LinearAttention's update_rule.
const (
	ruleLinear = iota
	ruleGated
	ruleDelta
	ruleGatedDelta
)

// linearAttention is LinearAttention-27: per key/value head a d_k×d_v state S evolves
// token by token (S ← decay·S + update) and every query head reads its group's state,
// o_t = scale · q_tᵀ S_t. It runs the recurrence sequentially, which the spec defines as
// the meaning of the chunked algorithms.
type linearAttention struct {
	node            *ir.Node
	rule            int
	qHeads, kvHeads int
	scale           float64
}

func newLinearAttention(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	k := &linearAttention{node: n, qHeads: int(n.AttrInt("q_num_heads", 0)), kvHeads: int(n.AttrInt("kv_num_heads", 0)),
		scale: float64(n.AttrFloat("scale", 0))}
	switch r := n.AttrString("update_rule", "gated_delta"); r {
	case "linear":
		k.rule = ruleLinear
	case "gated":
		k.rule = ruleGated
	case "delta":
		k.rule = ruleDelta
	case "gated_delta":
		k.rule = ruleGatedDelta
	default:
		return nil, opErr(n, "update_rule %q is not linear, gated, delta or gated_delta", r)
	}
	if k.qHeads <= 0 || k.kvHeads <= 0 || k.qHeads%k.kvHeads != 0 {
		return nil, opErr(n, "q_num_heads %d must be a positive multiple of kv_num_heads %d", k.qHeads, k.kvHeads)
	}
	return k, nil
}

func (k *linearAttention) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	qt, kt, vt := kernel.Input(inputs, 0), kernel.Input(inputs, 1), kernel.Input(inputs, 2)
	if qt == nil || kt == nil || vt == nil {
		return nil, opErr(k.node, "inputs query, key and value are required")
	}
	if len(qt.Shape) != 3 || len(kt.Shape) != 3 || len(vt.Shape) != 3 {
		return nil, opErr(k.node, "query %v, key %v and value %v must be 3-D [B, T, H·D]", qt.Shape, kt.Shape, vt.Shape)
	}
	b, t := int(qt.Shape[0]), int(qt.Shape[1])
	hq, hkv := k.qHeads, k.kvHeads
	if int(qt.Shape[2])%hq != 0 || int(vt.Shape[2])%hkv != 0 {
		return nil, opErr(k.node, "query %v / value %v do not split into %d / %d heads", qt.Shape, vt.Shape, hq, hkv)
	}
	dk, dv := int(qt.Shape[2])/hq, int(vt.Shape[2])/hkv
	for _, s := range [][]int64{kt.Shape, vt.Shape} {
		if int(s[0]) != b || int(s[1]) != t {
			return nil, opErr(k.node, "key %v and value %v must share query's [B, T] = [%d, %d]", kt.Shape, vt.Shape, b, t)
		}
	}
	if int(kt.Shape[2]) != hkv*dk {
		return nil, opErr(k.node, "key %v must be [%d, %d, %d]", kt.Shape, b, t, hkv*dk)
	}
	q, err := kernel.FloatsOf(qt)
	if err != nil {
		return nil, opErr(k.node, "query: %w", err)
	}
	kd, err := kernel.FloatsOf(kt)
	if err != nil {
		return nil, opErr(k.node, "key: %w", err)
	}
	v, err := kernel.FloatsOf(vt)
	if err != nil {
		return nil, opErr(k.node, "value: %w", err)
	}
	state, err := scratch(b, hkv, dk, dv)
	if err != nil {
		return nil, err
	}
	stateType := qt.DType
	if pt := kernel.Input(inputs, 3); pt != nil {
		if len(pt.Shape) != 4 || int(pt.Shape[0]) != b || int(pt.Shape[1]) != hkv || int(pt.Shape[2]) != dk || int(pt.Shape[3]) != dv {
			return nil, opErr(k.node, "past_state %v must be [%d, %d, %d, %d]", pt.Shape, b, hkv, dk, dv)
		}
		p, err := kernel.FloatsOf(pt)
		if err != nil {
			return nil, opErr(k.node, "past_state: %w", err)
		}
		copy(state, p)
		stateType = pt.DType
	}
	gated := k.rule == ruleGated || k.rule == ruleGatedDelta
	delta := k.rule == ruleDelta || k.rule == ruleGatedDelta
	// decay is per key dimension ([B, T, Hkv·dk]) or per head ([B, T, Hkv]); beta per head
	// ([B, T, Hkv]) or shared ([B, T, 1]). decayWidth / betaWidth say which.
	var decay, beta []float64
	decayWidth, betaWidth := 0, 0
	if gated {
		dt := kernel.Input(inputs, 4)
		if dt == nil {
			return nil, opErr(k.node, "update_rule %s needs the decay input", k.node.AttrString("update_rule", "gated_delta"))
		}
		if len(dt.Shape) != 3 || int(dt.Shape[0]) != b || int(dt.Shape[1]) != t || (int(dt.Shape[2]) != hkv*dk && int(dt.Shape[2]) != hkv) {
			return nil, opErr(k.node, "decay %v must be [%d, %d, %d] or [%d, %d, %d]", dt.Shape, b, t, hkv*dk, b, t, hkv)
		}
		decayWidth = int(dt.Shape[2])
		if decay, err = kernel.FloatsOf(dt); err != nil {
			return nil, opErr(k.node, "decay: %w", err)
		}
	}
	if delta {
		bt := kernel.Input(inputs, 5)
		if bt == nil {
			return nil, opErr(k.node, "update_rule %s needs the beta input", k.node.AttrString("update_rule", "gated_delta"))
		}
		if len(bt.Shape) != 3 || int(bt.Shape[0]) != b || int(bt.Shape[1]) != t || (int(bt.Shape[2]) != hkv && bt.Shape[2] != 1) {
			return nil, opErr(k.node, "beta %v must be [%d, %d, %d] or [%d, %d, 1]", bt.Shape, b, t, hkv, b, t)
		}
		betaWidth = int(bt.Shape[2])
		if beta, err = kernel.FloatsOf(bt); err != nil {
			return nil, opErr(k.node, "beta: %w", err)
		}
	}
	scale := k.scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(dk))
	}
	group := hq / hkv
	out, err := scratch(b, t, hq, dv)
	if err != nil {
		return nil, err
	}
	gate, err := scratch(dk)
	if err != nil {
		return nil, err
	}
	recall, err := scratch(dv) // Sᵀk after decay
	if err != nil {
		return nil, err
	}
	// Without output rows there is nothing to update (t = 0) or nothing to read (dv = 0:
	// the state is empty too); the loops would still count out b·t·hkv, which empty inputs
	// may set to anything. With rows, b·t·hkv ≤ b·t·hq ≤ len(out).
	for bi := 0; bi < b && len(out) > 0; bi++ {
		for ti := 0; ti < t; ti++ {
			row := bi*t + ti
			for h := 0; h < hkv; h++ {
				s := state[(bi*hkv+h)*dk*dv : (bi*hkv+h+1)*dk*dv]
				kv := kd[row*hkv*dk+h*dk : row*hkv*dk+(h+1)*dk]
				vv := v[row*hkv*dv+h*dv : row*hkv*dv+(h+1)*dv]
				if gated {
					for i := range gate {
						if decayWidth == hkv {
							gate[i] = math.Exp(decay[row*hkv+h])
						} else {
							gate[i] = math.Exp(decay[row*hkv*dk+h*dk+i])
						}
					}
					for i := 0; i < dk; i++ {
						for j := 0; j < dv; j++ {
							s[i*dv+j] *= gate[i]
						}
					}
				}
				if delta {
					bv := beta[row*betaWidth+min(h, betaWidth-1)]
					clear(recall)
					for i := 0; i < dk; i++ {
						for j := 0; j < dv; j++ {
							recall[j] += s[i*dv+j] * kv[i]
						}
					}
					for i := 0; i < dk; i++ {
						for j := 0; j < dv; j++ {
							s[i*dv+j] += bv * kv[i] * (vv[j] - recall[j])
						}
					}
				} else {
					for i := 0; i < dk; i++ {
						for j := 0; j < dv; j++ {
							s[i*dv+j] += kv[i] * vv[j]
						}
					}
				}
				for g := 0; g < group; g++ {
					qh := h*group + g
					qv := q[row*hq*dk+qh*dk : row*hq*dk+(qh+1)*dk]
					o := out[row*hq*dv+qh*dv : row*hq*dv+(qh+1)*dv]
					for j := range o {
						sum := 0.0
						for i := 0; i < dk; i++ {
							sum += qv[i] * s[i*dv+j]
						}
						o[j] = scale * sum
					}
				}
			}
		}
	}
	y, err := kernel.FromFloat64s(ctx, qt.DType, []int64{int64(b), int64(t), int64(hq * dv)}, out)
	if err != nil {
		return nil, opErr(k.node, "output: %w", err)
	}
	st, err := kernel.FromFloat64s(ctx, stateType, []int64{int64(b), int64(hkv), int64(dk), int64(dv)}, state)
	if err != nil {
		return nil, opErr(k.node, "present_state: %w", err)
	}
	return []*kernel.Tensor{y, st}, nil
}
