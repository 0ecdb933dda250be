package passes

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
)

func init() {
	Register(Info{
		Name: "fuse_bn_into_conv",
		Doc: "fold an inference BatchNormalization with constant parameters into the Conv, ConvTranspose, " +
			"Gemm or 2-D MatMul before it (scaled weights and bias, computed in float64), when that " +
			"node's output has no other reader",
		New:        noParams("fuse_bn_into_conv", fuseBNIntoConv),
		FixedPoint: true,
	})
}

// bnParams are a BatchNormalization's per-channel scale s = gamma/sqrt(var+eps) and shift
// t = beta - mean*s, so that BN(x) = x*s + t.
type bnParams struct{ scale, shift []float64 }

func fuseBNIntoConv(ctx *Context, m *ir.Model) (bool, error) {
	ctx.ensureTypes(m)
	r := newRewriter(ctx, m)
	opset := opsetOf(m)
	for _, g := range workGraphs(m) {
		for _, bn := range g.Nodes() {
			bp, ok := matchInferenceBN(bn, opset)
			if !ok {
				continue
			}
			p := bn.Input(0).Producer()
			if p == nil || p.Graph() != g {
				continue
			}
			if u, _, ok := onlyUse(p.Output(0)); !ok || u != bn {
				continue
			}
			var fused bool
			switch {
			case isOp(p, "Conv"):
				fused = r.scaleConv(p, bp, false)
			case isOp(p, "ConvTranspose"):
				fused = r.scaleConv(p, bp, true)
			case isOp(p, "Gemm"):
				fused = r.scaleGemm(p, bp)
			case isOp(p, "MatMul"):
				fused = r.scaleMatMul(p, bn, bp)
			}
			if !fused {
				continue
			}
			// The fused node's last output now computes BN's output.
			last := bn.Input(0)
			if !r.replaceValue(bn.Output(0), last) {
				// Unreachable: last is a node output of this graph with one use.
				continue
			}
			if err := r.removeNode(bn); err != nil {
				return r.changed, err
			}
		}
	}
	return r.changed, nil
}

// matchInferenceBN recognises a BatchNormalization in inference mode whose parameters are
// constant float vectors of one length, and returns its scale and shift.
func matchInferenceBN(bn *ir.Node, opset int64) (bnParams, bool) {
	if !isOp(bn, "BatchNormalization") || len(bn.Inputs()) != 5 {
		return bnParams{}, false
	}
	if bn.AttrInt("training_mode", 0) != 0 || bn.AttrInt("spatial", 1) != 1 {
		return bnParams{}, false
	}
	if opset < 7 && bn.Attr("is_test") != nil && bn.AttrInt("is_test", 0) == 0 {
		return bnParams{}, false
	}
	for _, v := range bn.Outputs()[1:] {
		if v != nil && (len(v.Uses()) > 0 || v.IsGraphOutput()) {
			return bnParams{}, false
		}
	}
	var vec [4][]float64
	for i := range vec {
		t := constOf(bn.Input(i + 1))
		if t == nil {
			return bnParams{}, false
		}
		xs, err := t.Float64s()
		if err != nil || len(t.Dims) != 1 || (i > 0 && len(xs) != len(vec[0])) {
			return bnParams{}, false
		}
		vec[i] = xs
	}
	eps := float64(bn.AttrFloat("epsilon", 1e-5))
	bp := bnParams{scale: make([]float64, len(vec[0])), shift: make([]float64, len(vec[0]))}
	for c := range vec[0] {
		s := vec[0][c] / math.Sqrt(vec[3][c]+eps)
		bp.scale[c] = s
		bp.shift[c] = vec[1][c] - vec[2][c]*s
	}
	return bp, true
}

// floatConst returns the float or double constant input i of n, decoded.
func floatConst(n *ir.Node, i int) (*ir.Tensor, []float64, bool) {
	t := constOf(n.Input(i))
	if t == nil || (t.DataType != ir.Float && t.DataType != ir.Double) {
		return nil, nil, false
	}
	xs, err := t.Float64s()
	if err != nil {
		return nil, nil, false
	}
	return t, xs, true
}

// updateConst gives input i of n the constant t: in place when n is the initializer's only
// reader, else as a new initializer.
func (r *rewriter) updateConst(n *ir.Node, i int, t *ir.Tensor, hint string) {
	v := n.Input(i)
	if v != nil && v.Const != nil && constOf(v) != nil && len(v.Uses()) == 1 && !v.IsGraphOutput() {
		r.setConst(v, t)
		return
	}
	c := r.addConst(n.Graph(), hint, t)
	if i < len(n.Inputs()) {
		r.setInput(n, i, c)
		return
	}
	for len(n.Inputs()) < i {
		r.appendInput(n, nil)
	}
	r.appendInput(n, c)
}

// newBias computes (b*beta - 0)*s + t per channel: the bias after BN, from an optional
// old bias b (nil: zeros).
func newBias(b []float64, beta float64, bp bnParams) []float64 {
	out := make([]float64, len(bp.scale))
	for c := range out {
		old := 0.0
		if b != nil {
			old = b[c] * beta
		}
		out[c] = old*bp.scale[c] + bp.shift[c]
	}
	return out
}

// scaleConv folds bp into a Conv (weights [M, C/g, k...], output channel = axis 0) or a
// ConvTranspose (weights [C, M/g, k...], output channel of w[i, j] = (i / (C/g))*(M/g) + j).
func (r *rewriter) scaleConv(p *ir.Node, bp bnParams, transpose bool) bool {
	wt, w, ok := floatConst(p, 1)
	if !ok || len(wt.Dims) < 2 {
		return false
	}
	groups := p.AttrInt("group", 1)
	m := len(bp.scale)
	var outChannels int64
	if transpose {
		outChannels = wt.Dims[1] * groups
	} else {
		outChannels = wt.Dims[0]
	}
	if outChannels != int64(m) || groups < 1 || wt.Dims[0]%groups != 0 {
		return false
	}
	var b []float64
	if p.Input(2) != nil {
		bt, bs, ok := floatConst(p, 2)
		if !ok || len(bs) != m || bt.DataType != wt.DataType {
			return false
		}
		b = bs
	}
	inner := len(w) / int(wt.Dims[0]*wt.Dims[1])
	nw := make([]float64, len(w))
	for i := int64(0); i < wt.Dims[0]; i++ {
		for j := int64(0); j < wt.Dims[1]; j++ {
			oc := i
			if transpose {
				oc = (i/(wt.Dims[0]/groups))*wt.Dims[1] + j
			}
			base := int((i*wt.Dims[1] + j)) * inner
			for k := 0; k < inner; k++ {
				nw[base+k] = w[base+k] * bp.scale[oc]
			}
		}
	}
	r.updateConst(p, 1, ir.FromFloat64s("", wt.DataType, wt.Dims, nw), nameOf(p.Input(1))+"_bn")
	r.updateConst(p, 2, ir.FromFloat64s("", wt.DataType, []int64{int64(m)}, newBias(b, 1, bp)), nodeLabel(p)+"_bias_bn")
	return true
}

// scaleGemm folds bp into Gemm's B (columns, or rows when transB) and C; C must be absent
// or broadcast along the output columns only ([], [1], [N], [1,N]).
func (r *rewriter) scaleGemm(p *ir.Node, bp bnParams) bool {
	bt, b, ok := floatConst(p, 1)
	if !ok || len(bt.Dims) != 2 {
		return false
	}
	n := len(bp.scale)
	transB := p.AttrInt("transB", 0) != 0
	if (transB && bt.Dims[0] != int64(n)) || (!transB && bt.Dims[1] != int64(n)) {
		return false
	}
	var c []float64
	if p.Input(2) != nil {
		ct, cs, ok := floatConst(p, 2)
		if !ok || ct.DataType != bt.DataType {
			return false
		}
		switch {
		case len(cs) == 1 && len(ct.Dims) <= 2:
			c = make([]float64, n)
			for i := range c {
				c[i] = cs[0]
			}
		case len(cs) == n && (len(ct.Dims) == 1 || (len(ct.Dims) == 2 && ct.Dims[0] == 1)):
			c = cs
		default:
			return false
		}
	}
	nb := make([]float64, len(b))
	rows, cols := int(bt.Dims[0]), int(bt.Dims[1])
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			ch := j
			if transB {
				ch = i
			}
			nb[i*cols+j] = b[i*cols+j] * bp.scale[ch]
		}
	}
	beta := float64(p.AttrFloat("beta", 1))
	r.updateConst(p, 1, ir.FromFloat64s("", bt.DataType, bt.Dims, nb), nameOf(p.Input(1))+"_bn")
	r.updateConst(p, 2, ir.FromFloat64s("", bt.DataType, []int64{int64(n)}, newBias(c, beta, bp)), nodeLabel(p)+"_bias_bn")
	if p.Attr("beta") != nil && beta != 1 {
		r.setAttr(p, ir.FloatAttr("beta", 1))
	}
	return true
}

// scaleMatMul folds bp into a 2-D MatMul with constant right operand [K, N]: the columns
// are scaled and an Add of the shift follows (fuse_matmul_add_into_gemm makes a Gemm).
func (r *rewriter) scaleMatMul(p, bn *ir.Node, bp bnParams) bool {
	bt, b, ok := floatConst(p, 1)
	if !ok || len(bt.Dims) != 2 || bt.Dims[1] != int64(len(bp.scale)) || rankOf(p.Input(0)) != 2 {
		return false
	}
	nb := make([]float64, len(b))
	cols := int(bt.Dims[1])
	for i := range b {
		nb[i] = b[i] * bp.scale[i%cols]
	}
	r.updateConst(p, 1, ir.FromFloat64s("", bt.DataType, bt.Dims, nb), nameOf(p.Input(1))+"_bn")
	shift := r.addConst(p.Graph(), nodeLabel(p)+"_bias_bn", ir.FromFloat64s("", bt.DataType, []int64{int64(cols)}, bp.shift))
	add := r.newNode(p.Graph(), bn, "", "Add", []*ir.Value{p.Output(0), shift}, []string{nodeLabel(bn) + "_add"})
	add.Output(0).Type = p.Output(0).Type.Clone()
	// BN's input becomes the Add's output, which the caller forwards BN's output to.
	r.setInput(bn, 0, add.Output(0))
	return true
}
