package infer

import (
	"github.com/whittle-ml/whittle/ir"
)

func init() { register(ruleAttention, "Attention") }

// ruleAttention follows Attention-23: Q, K, V are 4-D (batch, heads, seq, head size) or 3-D
// (batch, seq, heads × head size, with q_num_heads and kv_num_heads attributes).
func ruleAttention(c *ctx) {
	elem := c.elem(0)
	q, qok := c.shape(0)
	k, kok := c.shape(1)
	v, vok := c.shape(2)
	if !qok || !kok || !vok || len(q) != len(k) || len(q) != len(v) || (len(q) != 3 && len(q) != 4) {
		c.outTensor(0, elem, nil, false)
		return
	}
	qHeads := ir.Known(c.n.AttrInt("q_num_heads", 0))
	kvHeads := ir.Known(c.n.AttrInt("kv_num_heads", 0))
	var batch, qSeq, kvSeq, headSize, vHead ir.Dim
	if len(q) == 4 {
		batch, qHeads, qSeq, headSize = clean(q[0]), clean(q[1]), clean(q[2]), clean(q[3])
		kvHeads, kvSeq, vHead = clean(k[1]), clean(k[2]), clean(v[3])
	} else {
		if qHeads.Value <= 0 || kvHeads.Value <= 0 {
			c.problem("attributes", "3-D inputs need q_num_heads and kv_num_heads")
			return
		}
		batch, qSeq, kvSeq = clean(q[0]), clean(q[1]), clean(k[1])
		headSize, vHead = divDim(k[2], kvHeads.Value), divDim(v[2], kvHeads.Value)
	}
	total := kvSeq
	if p, ok := c.shape(4); ok && len(p) == 4 {
		total = addDim(p[2], kvSeq)
	}
	if len(q) == 4 {
		c.outTensor(0, elem, []ir.Dim{batch, qHeads, qSeq, vHead}, true)
	} else {
		c.outTensor(0, elem, []ir.Dim{batch, qSeq, mulDim(qHeads, vHead)}, true)
	}
	c.outTensor(1, elem, []ir.Dim{batch, kvHeads, total, headSize}, true)
	c.outTensor(2, c.elem(2), []ir.Dim{batch, kvHeads, total, vHead}, true)
	c.outTensor(3, elem, []ir.Dim{batch, qHeads, qSeq, total}, true)
}
