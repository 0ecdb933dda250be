package infer

import (
	"github.com/whittle-ml/whittle/ir"
)

// Convolution, pooling, matrix products and recurrent layers.

func init() {
	register(ruleConv, "Conv", "ConvInteger", "QLinearConv", "DeformConv")
	register(ruleConvTranspose, "ConvTranspose")
	register(rulePool, "MaxPool", "AveragePool", "LpPool")
	register(ruleGlobalPool, "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool")
	register(ruleMaxUnpool, "MaxUnpool")
	register(ruleMatMul, "MatMul", "MatMulInteger", "QLinearMatMul")
	register(ruleGemm, "Gemm")
	register(ruleRNN, "RNN", "GRU", "LSTM")
	register(ruleRoiAlign, "RoiAlign")
	register(ruleGridSample, "GridSample")
}

// convInputs returns the input indices of X and W and the output element type.
func (c *ctx) convInputs() (x, w int, elem ir.DataType) {
	switch c.n.OpType {
	case "ConvInteger":
		return 0, 1, ir.Int32
	case "QLinearConv":
		return 0, 3, c.firstElem(7, 0)
	}
	return 0, 1, c.elem(0)
}

// windowOut computes pooled or convolved spatial sizes. kernel sizes are the effective
// (undilated) sizes; a named input size gives an unknown output size.
func (c *ctx) windowOut(in []ir.Dim, kernel []int64, ceilMode bool) ([]ir.Dim, bool) {
	n := len(in)
	if len(kernel) != n {
		c.problem(attrName("kernel_shape"), "%d sizes for %d spatial dimensions", len(kernel), n)
		return nil, false
	}
	strides := c.spatialAttr("strides", n, 1)
	dil := c.spatialAttr("dilations", n, 1)
	pads, given := c.attrInts("pads")
	if !given {
		pads = make([]int64, 2*n)
	}
	if strides == nil || dil == nil || len(pads) != 2*n {
		c.problem("attributes", "strides, dilations or pads do not match %d spatial dimensions", n)
		return nil, false
	}
	autoPad := c.n.AttrString("auto_pad", "NOTSET")
	out := make([]ir.Dim, n)
	for k := range in {
		if !in[k].IsKnown() {
			out[k] = ir.UnknownDim
			continue
		}
		if strides[k] <= 0 {
			c.problem(attrName("strides"), "stride %d", strides[k])
			return nil, false
		}
		size := in[k].Value
		eff := dil[k]*(kernel[k]-1) + 1
		var o int64
		switch autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			o = (size + strides[k] - 1) / strides[k]
		case "VALID":
			o = (size-eff)/strides[k] + 1
			if size < eff {
				o = 0
			}
		default:
			span := size + pads[k] + pads[k+n] - eff
			if span < 0 {
				c.problem(inputName(0), "spatial dimension %d (%d) is smaller than the window (%d)", k, size, eff)
				return nil, false
			}
			if ceilMode {
				o = (span+strides[k]-1)/strides[k] + 1
				// The last window must start inside the input or its left padding.
				if (o-1)*strides[k] >= size+pads[k] {
					o--
				}
			} else {
				o = span/strides[k] + 1
			}
		}
		out[k] = ir.Known(o)
	}
	return out, true
}

// spatialAttr reads an ints attribute of n entries, or n copies of def when absent; nil when
// its length is wrong.
func (c *ctx) spatialAttr(name string, n int, def int64) []int64 {
	v, ok := c.attrInts(name)
	if !ok {
		v = make([]int64, n)
		for k := range v {
			v[k] = def
		}
	}
	if len(v) != n {
		return nil
	}
	return v
}

func ruleConv(c *ctx) {
	xi, wi, elem := c.convInputs()
	x, xok := c.shape(xi)
	w, wok := c.shape(wi)
	if !xok && !wok {
		c.outTensor(0, elem, nil, false)
		return
	}
	rank := len(x)
	if !xok {
		rank = len(w)
	}
	if rank < 3 {
		c.problem(inputName(xi), "rank %d, want at least 3", rank)
		return
	}
	out := unknownDims(rank)
	if xok {
		out[0] = clean(x[0])
	}
	if wok {
		if len(w) != rank {
			c.problem(inputName(wi), "weight rank %d differs from input rank %d", len(w), rank)
			return
		}
		out[1] = clean(w[0])
		if xok && w[1].IsKnown() && x[1].IsKnown() {
			g := c.n.AttrInt("group", 1)
			if w[1].Value*g != x[1].Value {
				c.problem(inputName(wi), "weight has %d input channels × group %d, input has %d channels", w[1].Value, g, x[1].Value)
				return
			}
		}
	}
	kernel, given := c.attrInts("kernel_shape")
	if !given && wok {
		if ks, ok := tensor(ir.Undefined, w[2:], true).StaticDims(); ok {
			kernel, given = ks, true
		}
	}
	if xok && given {
		sp, ok := c.windowOut(x[2:], kernel, false)
		if !ok {
			return
		}
		copy(out[2:], sp)
	}
	c.outTensor(0, elem, out, true)
}

func ruleConvTranspose(c *ctx) {
	elem := c.elem(0)
	x, xok := c.shape(0)
	w, wok := c.shape(1)
	if !xok {
		c.outTensor(0, elem, nil, false)
		return
	}
	rank := len(x)
	n := rank - 2
	if n < 1 {
		c.problem(inputName(0), "rank %d, want at least 3", rank)
		return
	}
	out := unknownDims(rank)
	out[0] = clean(x[0])
	group := c.n.AttrInt("group", 1)
	if wok && len(w) == rank {
		out[1] = mulDim(w[1], ir.Known(group))
	}
	kernel, given := c.attrInts("kernel_shape")
	if !given && wok && len(w) == rank {
		kernel, given = tensor(ir.Undefined, w[2:], true).StaticDims()
	}
	if outShape, ok := c.attrInts("output_shape"); ok {
		if len(outShape) == rank {
			outShape = outShape[2:]
		}
		if len(outShape) != n {
			c.problem(attrName("output_shape"), "%d sizes for %d spatial dimensions", len(outShape), n)
			return
		}
		for k, s := range outShape {
			out[2+k] = ir.Known(s)
		}
		c.outTensor(0, elem, out, true)
		return
	}
	if !given {
		c.outTensor(0, elem, out, true)
		return
	}
	strides := c.spatialAttr("strides", n, 1)
	dil := c.spatialAttr("dilations", n, 1)
	outPad := c.spatialAttr("output_padding", n, 0)
	pads, ok := c.attrInts("pads")
	if !ok {
		pads = make([]int64, 2*n)
	}
	if strides == nil || dil == nil || outPad == nil || len(pads) != 2*n || len(kernel) != n {
		c.problem("attributes", "strides, dilations, output_padding, pads or kernel_shape do not match %d spatial dimensions", n)
		return
	}
	autoPad := c.n.AttrString("auto_pad", "NOTSET")
	for k := 0; k < n; k++ {
		d := x[2+k]
		if !d.IsKnown() {
			continue
		}
		if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
			out[2+k] = ir.Known(d.Value * strides[k])
			continue
		}
		total := strides[k]*(d.Value-1) + outPad[k] + (kernel[k]-1)*dil[k] + 1
		if autoPad != "VALID" {
			total -= pads[k] + pads[k+n]
		}
		out[2+k] = ir.Known(total)
	}
	c.outTensor(0, elem, out, true)
}

func rulePool(c *ctx) {
	elem := c.elem(0)
	x, ok := c.shape(0)
	if !ok {
		c.outTensor(0, elem, nil, false)
		c.outTensor(1, ir.Int64, nil, false)
		return
	}
	if len(x) < 3 {
		c.problem(inputName(0), "rank %d, want at least 3", len(x))
		return
	}
	kernel, given := c.attrInts("kernel_shape")
	if !given {
		c.problem(attrName("kernel_shape"), "missing")
		return
	}
	sp, ok := c.windowOut(x[2:], kernel, c.n.AttrInt("ceil_mode", 0) != 0)
	if !ok {
		return
	}
	out := append([]ir.Dim{clean(x[0]), clean(x[1])}, sp...)
	c.outTensor(0, elem, out, true)
	c.outTensor(1, ir.Int64, out, true)
}

func ruleGlobalPool(c *ctx) {
	elem := c.elem(0)
	x, ok := c.shape(0)
	if !ok {
		c.outTensor(0, elem, nil, false)
		return
	}
	if len(x) < 2 {
		c.problem(inputName(0), "rank %d, want at least 2", len(x))
		return
	}
	out := cloneDims(x)
	for k := 2; k < len(out); k++ {
		out[k] = ir.Known(1)
	}
	c.outTensor(0, elem, out, true)
}

func ruleMaxUnpool(c *ctx) {
	elem := c.elem(0)
	if c.has(2) {
		if vals, ok := c.values(2); ok {
			out := make([]ir.Dim, len(vals))
			for k, v := range vals {
				out[k] = v.dim()
			}
			c.outTensor(0, elem, out, true)
			return
		}
	}
	x, ok := c.shape(0)
	kernel, given := c.attrInts("kernel_shape")
	if !ok || !given || len(kernel) != len(x)-2 {
		c.outTensor(0, elem, nil, false)
		return
	}
	n := len(kernel)
	strides := c.spatialAttr("strides", n, 1)
	pads, pok := c.attrInts("pads")
	if !pok {
		pads = make([]int64, 2*n)
	}
	if strides == nil || len(pads) != 2*n {
		c.problem("attributes", "strides or pads do not match %d spatial dimensions", n)
		return
	}
	out := cloneDims(x)
	for k := 0; k < n; k++ {
		if d := x[2+k]; d.IsKnown() {
			out[2+k] = ir.Known((d.Value-1)*strides[k] + kernel[k] - pads[k] - pads[k+n])
		} else {
			out[2+k] = ir.UnknownDim
		}
	}
	c.outTensor(0, elem, out, true)
}

func ruleMatMul(c *ctx) {
	a, b := 0, 1
	elem := c.elem(0)
	switch c.n.OpType {
	case "MatMulInteger":
		elem = ir.Int32
	case "QLinearMatMul":
		b = 3
		elem = c.firstElem(7, 0)
	}
	ad, aok := c.shape(a)
	bd, bok := c.shape(b)
	if !aok || !bok {
		c.outTensor(0, elem, nil, false)
		return
	}
	if len(ad) == 0 || len(bd) == 0 {
		c.problem("inputs", "MatMul of a scalar")
		return
	}
	// numpy.matmul: 1-D operands are promoted to matrices and the added axis dropped.
	aa, bb := cloneDims(ad), cloneDims(bd)
	if len(aa) == 1 {
		aa = []ir.Dim{ir.Known(1), aa[0]}
	}
	if len(bb) == 1 {
		bb = []ir.Dim{bb[0], ir.Known(1)}
	}
	ka, kb := aa[len(aa)-1], bb[len(bb)-2]
	if ka.IsKnown() && kb.IsKnown() && ka.Value != kb.Value {
		c.problem("inputs", "inner dimensions differ: %s × %s", tensor(elem, ad, true), tensor(elem, bd, true))
		return
	}
	batch, ok := c.broadcast([][]ir.Dim{aa[:len(aa)-2], bb[:len(bb)-2]}, []bool{true, true}, "inputs")
	if !ok {
		return
	}
	out := batch
	if len(ad) > 1 {
		out = append(out, aa[len(aa)-2])
	}
	if len(bd) > 1 {
		out = append(out, bb[len(bb)-1])
	}
	c.outTensor(0, elem, out, true)
}

func ruleGemm(c *ctx) {
	elem := c.elem(0)
	ad, aok := c.shape(0)
	bd, bok := c.shape(1)
	if !aok || !bok {
		c.outTensor(0, elem, unknownDims(2), true)
		return
	}
	if len(ad) != 2 || len(bd) != 2 {
		c.problem("inputs", "Gemm needs matrices, got ranks %d and %d", len(ad), len(bd))
		return
	}
	m, ka := ad[0], ad[1]
	if c.n.AttrInt("transA", 0) != 0 {
		m, ka = ka, m
	}
	kb, n := bd[0], bd[1]
	if c.n.AttrInt("transB", 0) != 0 {
		kb, n = n, kb
	}
	if ka.IsKnown() && kb.IsKnown() && ka.Value != kb.Value {
		c.problem("inputs", "inner dimensions differ: %d and %d", ka.Value, kb.Value)
		return
	}
	c.outTensor(0, elem, []ir.Dim{clean(m), clean(n)}, true)
}

func ruleRNN(c *ctx) {
	elem := c.elem(0)
	x, ok := c.shape(0)
	layout := c.n.AttrInt("layout", 0)
	dirs := int64(1)
	if c.n.AttrString("direction", "forward") == "bidirectional" {
		dirs = 2
	}
	hidden := ir.UnknownDim
	if h := c.n.AttrInt("hidden_size", -1); h > 0 {
		hidden = ir.Known(h)
	} else if r, ok := c.shape(2); ok && len(r) == 3 {
		hidden = clean(r[2])
	}
	seq, batch := ir.UnknownDim, ir.UnknownDim
	if ok && len(x) == 3 {
		seq, batch = clean(x[0]), clean(x[1])
		if layout != 0 {
			seq, batch = batch, seq
		}
	}
	nd := ir.Known(dirs)
	if layout == 0 {
		c.outTensor(0, elem, []ir.Dim{seq, nd, batch, hidden}, true)
		c.outTensor(1, elem, []ir.Dim{nd, batch, hidden}, true)
		c.outTensor(2, elem, []ir.Dim{nd, batch, hidden}, true)
	} else {
		c.outTensor(0, elem, []ir.Dim{batch, seq, nd, hidden}, true)
		c.outTensor(1, elem, []ir.Dim{batch, nd, hidden}, true)
		c.outTensor(2, elem, []ir.Dim{batch, nd, hidden}, true)
	}
}

func ruleRoiAlign(c *ctx) {
	elem := c.elem(0)
	x, xok := c.shape(0)
	rois, rok := c.shape(1)
	ch, num := ir.UnknownDim, ir.UnknownDim
	if xok && len(x) == 4 {
		ch = clean(x[1])
	}
	if rok && len(rois) == 2 {
		num = clean(rois[0])
	}
	c.outTensor(0, elem, []ir.Dim{num, ch, ir.Known(c.n.AttrInt("output_height", 1)), ir.Known(c.n.AttrInt("output_width", 1))}, true)
}

func ruleGridSample(c *ctx) {
	elem := c.elem(0)
	x, xok := c.shape(0)
	g, gok := c.shape(1)
	if !xok || !gok {
		c.outTensor(0, elem, nil, false)
		return
	}
	if len(g) != len(x) {
		c.problem(inputName(1), "grid rank %d differs from input rank %d", len(g), len(x))
		return
	}
	if len(x) < 3 {
		c.problem(inputName(0), "rank %d, want at least 3 (N, C, spatial axes)", len(x))
		return
	}
	out := []ir.Dim{clean(x[0]), clean(x[1])}
	out = append(out, cloneDims(g[1:len(g)-1])...)
	c.outTensor(0, elem, out, true)
}
