package prepare

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
)

// The matrix-product and shape groups of qdqRegions:
//
//	DQ(a) → Gemm(·, DQ(w), DQ(b) | b) [→ Relu | Clip → Q]  ⇒  QGemm
//	DQ(a) → MatMul(·, DQ(w)) [→ Relu | Clip → Q]            ⇒  QGemm
//	DQ(x) → Flatten | Reshape | Squeeze | Unsqueeze → Q (same parameters)
//	                                                       ⇒  the shape operator on x
//
// w is a constant 8-bit matrix with per-tensor or per-output-column parameters. Without a
// QuantizeLinear after it, QGemm writes the float result (a classifier's logits) from the
// exact integer sum, scaled once.

// OpQGemm is the integer matrix product of the QDQ rules (runtime/ops/quant/qgemm_op.go).
const OpQGemm = "QGemm"

// shapeOps move 8-bit values as they move floats; a DequantizeLinear and QuantizeLinear with
// the same parameters around one cancel.
var shapeOps = map[string]bool{"Flatten": true, "Reshape": true, "Squeeze": true, "Unsqueeze": true}

// matrixWeights matches DQ(w) with constant 2-D 8-bit w whose parameters are per tensor or per
// output column (axis 1 of [K, N], or axis 0 of [N, K] when trans).
func matrixWeights(v *ir.Value, trans bool) (quantWeights, int, bool) {
	dq := v.Producer()
	if !isOp(dq, "DequantizeLinear") || len(dq.Inputs()) < 2 || dq.AttrInt("block_size", 0) != 0 {
		return quantWeights{}, 0, false
	}
	w := quantWeights{q: dq.Input(0), scale: dq.Input(1)}
	if w.q == nil || w.q.Const == nil || (w.q.Const.DataType != ir.Int8 && w.q.Const.DataType != ir.Uint8) ||
		len(w.q.Const.Dims) != 2 || w.scale == nil || w.scale.Const == nil || w.scale.Const.DataType != ir.Float {
		return quantWeights{}, 0, false
	}
	n, axis := w.q.Const.Dims[1], int64(1)
	if trans {
		n, axis = w.q.Const.Dims[0], 0
	}
	scales, err := w.scale.Const.Float32s()
	if err != nil || (len(scales) != 1 && int64(len(scales)) != n) {
		return quantWeights{}, 0, false
	}
	if len(scales) > 1 {
		if a := dq.AttrInt("axis", 1); a != axis && a != axis-2 {
			return quantWeights{}, 0, false
		}
	}
	for _, s := range scales {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return quantWeights{}, 0, false
		}
	}
	w.scales = scales
	if len(dq.Inputs()) > 2 && dq.Input(2) != nil {
		z := dq.Input(2)
		if z.Const == nil || z.Const.DataType != w.q.Const.DataType {
			return quantWeights{}, 0, false
		}
		if k, err := z.Const.NumElements(); err != nil || k != int64(len(scales)) {
			return quantWeights{}, 0, false
		}
		w.zero = z
	}
	return w, int(n), true
}

func (r *qdqRewriter) gemm(n *ir.Node) (bool, error) {
	in := n.Inputs()
	if len(in) < 2 {
		return false, nil
	}
	trans := false
	var bv *ir.Value
	if isOp(n, "Gemm") {
		if n.AttrFloat("alpha", 1) != 1 || n.AttrInt("transA", 0) != 0 || (len(in) > 2 && in[2] != nil && n.AttrFloat("beta", 1) != 1) {
			return false, nil
		}
		trans = n.AttrInt("transB", 0) != 0
		if len(in) > 2 {
			bv = in[2]
		}
	}
	_, aq, pa, ok := dequantized(in[0])
	if !ok {
		return false, nil
	}
	w, cols, ok := matrixWeights(in[1], trans)
	if !ok {
		return false, nil
	}
	if bv != nil && bv.Type != nil && bv.Type.HasShape && len(bv.Type.Dims) != 1 {
		return false, nil // a bias broadcast over rows only
	}
	bias, ok := r.biasOf(bv, pa.s, w.scales, cols)
	if !ok {
		return false, nil
	}
	inputs := []*ir.Value{aq, pa.scale, pa.zero, w.q, w.scale, w.zero, bias}
	var attrs []*ir.Attr
	if trans {
		attrs = append(attrs, ir.IntAttr("transB", 1))
	}
	y := n.Output(0)
	if chain, q, py, act, ok := r.quantizedOutput(y); ok {
		inputs = append(inputs, py.scale, py.zero)
		fused := r.g.NewNode(Domain, OpQGemm, inputs, r.c.tmpNames(q), append(attrs, act.attrs()...)...)
		fused.Name = n.Name
		return true, r.replaceGroup(append(append([]*ir.Node{n}, chain...), q), q, fused)
	}
	if y == nil || !isFloatTensor(y) {
		return false, nil
	}
	for len(inputs) > 0 && inputs[len(inputs)-1] == nil {
		inputs = inputs[:len(inputs)-1]
	}
	fused := r.g.NewNode(Domain, OpQGemm, inputs, r.c.tmpNames(n), attrs...)
	fused.Name = n.Name
	return true, r.replaceGroup([]*ir.Node{n}, n, fused)
}

// shape runs a shape operator between a DequantizeLinear and a QuantizeLinear with the same
// parameters on the 8-bit tensor itself.
func (r *qdqRewriter) shape(n *ir.Node) (bool, error) {
	_, xq, px, ok := dequantized(n.Input(0))
	if !ok || len(n.Outputs()) != 1 {
		return false, nil
	}
	q := r.c.soleUser(n.Output(0))
	if !isOp(q, "QuantizeLinear") {
		return false, nil
	}
	if py, ok := perTensorParams(q); !ok || !py.same(px) {
		return false, nil
	}
	inputs := append([]*ir.Value{xq}, n.Inputs()[1:]...)
	moved := r.g.NewNode(n.Domain, n.OpType, inputs, r.c.tmpNames(q), n.Attrs...)
	moved.Name = n.Name
	return true, r.replaceGroup([]*ir.Node{n, q}, q, moved)
}
