package seq2

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// previewDomain is the domain of experimental operators.
const previewDomain = "ai.onnx.preview"

func init() {
	kernel.Register(kernel.KernelDef{Domain: previewDomain, Op: "FlexAttention", SinceVersion: 1, Types: floatTypes, New: newFlexAttention})
}

// flexAttention is ai.onnx.preview::FlexAttention-1: scaled dot-product attention over
// rank-4 Q, K, V (GQA when K/V have fewer heads), where the optional score_mod subgraph
// rewrites the scores before the softmax and prob_mod the probabilities after it. Scores
// and probabilities are handed to the subgraphs in softmax_precision (float32, or float64
// for double inputs).
type flexAttention struct {
	node      *ir.Node
	scale     float64
	hasScale  bool
	precision ir.DataType // 0: decided by the input type
	scoreMod  kernel.Program
	probMod   kernel.Program
}

func newFlexAttention(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	k := &flexAttention{node: n}
	if a := n.Attr("scale"); a != nil {
		k.scale, k.hasScale = float64(a.Float), true
	}
	if a := n.Attr("softmax_precision"); a != nil {
		k.precision = ir.DataType(a.Int)
		switch k.precision {
		case ir.Float, ir.Double, ir.Float16, ir.BFloat16:
		default:
			return nil, opErr(n, "softmax_precision %s is not a float type", k.precision)
		}
	}
	for _, mod := range []struct {
		name string
		dst  *kernel.Program
	}{{"score_mod", &k.scoreMod}, {"prob_mod", &k.probMod}} {
		a := n.Attr(mod.name)
		if a == nil || a.Graph == nil {
			continue
		}
		if len(a.Graph.Inputs) != 1 || len(a.Graph.Outputs) != 1 {
			return nil, opErr(n, "%s must have one input and one output, has %d and %d", mod.name, len(a.Graph.Inputs), len(a.Graph.Outputs))
		}
		if info.Compile == nil {
			return nil, opErr(n, "%s: the session cannot compile subgraphs", mod.name)
		}
		p, err := info.Compile(a.Graph)
		if err != nil {
			return nil, opErr(n, "%s: %v", mod.name, err)
		}
		*mod.dst = p
	}
	return k, nil
}

// runMod runs a modifier subgraph on data of shape (kept and checked) in precision dt, and
// returns its output as float64.
func (k *flexAttention) runMod(ctx *kernel.Context, name string, p kernel.Program, dt ir.DataType, data []float64, shape []int64) ([]float64, error) {
	in, err := kernel.FromFloat64s(ctx, dt, shape, data)
	if err != nil {
		return nil, err
	}
	outs, err := p.Run(ctx, []*kernel.Tensor{in})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(outs) != 1 || outs[0] == nil || outs[0].Kind != kernel.TensorValue {
		return nil, fmt.Errorf("%s: want one tensor output", name)
	}
	if !kernel.SameShape(outs[0].Shape, shape) || outs[0].DType != dt {
		return nil, fmt.Errorf("%s: output %s%v, want %s%v", name, outs[0].DType, outs[0].Shape, dt, shape)
	}
	res, err := kernel.FloatsOf(outs[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// Copy: the program's output buffer is not ours to keep.
	return append([]float64(nil), res...), nil
}

func (k *flexAttention) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	qt, kt, vt := kernel.Input(inputs, 0), kernel.Input(inputs, 1), kernel.Input(inputs, 2)
	if qt == nil || kt == nil || vt == nil {
		return nil, opErr(k.node, "inputs Q, K and V are required")
	}
	if len(qt.Shape) != 4 || len(kt.Shape) != 4 || len(vt.Shape) != 4 {
		return nil, opErr(k.node, "Q %v, K %v and V %v must be rank 4", qt.Shape, kt.Shape, vt.Shape)
	}
	b, hq, l, e := int(qt.Shape[0]), int(qt.Shape[1]), int(qt.Shape[2]), int(qt.Shape[3])
	hkv, s, ev := int(kt.Shape[1]), int(kt.Shape[2]), int(vt.Shape[3])
	if int(kt.Shape[0]) != b || int(vt.Shape[0]) != b || int(kt.Shape[3]) != e || int(vt.Shape[1]) != hkv || int(vt.Shape[2]) != s {
		return nil, opErr(k.node, "Q %v, K %v and V %v do not agree", qt.Shape, kt.Shape, vt.Shape)
	}
	if hkv == 0 || hq%hkv != 0 {
		return nil, opErr(k.node, "%d query heads are not a multiple of %d key/value heads", hq, hkv)
	}
	q, err := kernel.FloatsOf(qt)
	if err != nil {
		return nil, opErr(k.node, "Q: %w", err)
	}
	kd, err := kernel.FloatsOf(kt)
	if err != nil {
		return nil, opErr(k.node, "K: %w", err)
	}
	vd, err := kernel.FloatsOf(vt)
	if err != nil {
		return nil, opErr(k.node, "V: %w", err)
	}
	prec := k.precision
	if prec == 0 {
		prec = ir.Float
		if qt.DType == ir.Double {
			prec = ir.Double
		}
	}
	scale := k.scale
	if !k.hasScale {
		scale = 1 / math.Sqrt(float64(e))
	}
	group := hq / hkv
	// The output first: when it is empty there is nothing to compute, and when it is not
	// it bounds the b·hq·l rows the loops below visit (empty inputs may declare any sizes).
	out, err := scratch(b, hq, l, ev)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return kernel.Single(kernel.FromFloat64s(ctx, qt.DType, []int64{int64(b), int64(hq), int64(l), int64(ev)}, out))
	}
	scores, err := scratch(b, hq, l, s)
	if err != nil {
		return nil, err
	}
	for bi := 0; bi < b; bi++ {
		for h := 0; h < hq; h++ {
			kvh := bi*hkv + h/group
			for i := 0; i < l; i++ {
				qv := q[((bi*hq+h)*l+i)*e:][:e]
				row := scores[((bi*hq+h)*l+i)*s:][:s]
				for j := range row {
					kv := kd[(kvh*s+j)*e:][:e]
					dot := 0.0
					for x, qx := range qv {
						dot += qx * kv[x]
					}
					row[j] = dot * scale
				}
			}
		}
	}
	roundTo(prec, scores)
	scoreShape := []int64{int64(b), int64(hq), int64(l), int64(s)}
	if k.scoreMod != nil {
		if scores, err = k.runMod(ctx, "score_mod", k.scoreMod, prec, scores, scoreShape); err != nil {
			return nil, opErr(k.node, "%w", err)
		}
	}
	for r := 0; r < b*hq*l; r++ {
		softmax(scores[r*s : (r+1)*s])
	}
	roundTo(prec, scores)
	if k.probMod != nil {
		if scores, err = k.runMod(ctx, "prob_mod", k.probMod, prec, scores, scoreShape); err != nil {
			return nil, opErr(k.node, "%w", err)
		}
	}
	for bi := 0; bi < b; bi++ {
		for h := 0; h < hq; h++ {
			kvh := bi*hkv + h/group
			for i := 0; i < l; i++ {
				p := scores[((bi*hq+h)*l+i)*s:][:s]
				o := out[((bi*hq+h)*l+i)*ev:][:ev]
				for j, pj := range p {
					vv := vd[(kvh*s+j)*ev:][:ev]
					for x := range o {
						o[x] += pj * vv[x]
					}
				}
			}
		}
	}
	y, err := kernel.FromFloat64s(ctx, qt.DType, []int64{int64(b), int64(hq), int64(l), int64(ev)}, out)
	if err != nil {
		return nil, opErr(k.node, "Y: %w", err)
	}
	return []*kernel.Tensor{y}, nil
}

// softmax normalizes a row in place; a row of -Inf only (fully masked) becomes NaN, as
// the reference computation does.
func softmax(row []float64) {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, v)
	}
	sum := 0.0
	for i, v := range row {
		row[i] = math.Exp(v - m)
		sum += row[i]
	}
	for i := range row {
		row[i] /= sum
	}
}
