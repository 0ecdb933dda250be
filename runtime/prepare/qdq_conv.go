package prepare

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
)

// The convolution group of qdqRegions:
//
//	DQ(x) → Conv(·, DQ(w), DQ(b) | b) [→ Relu | Clip] → Q   ⇒  QConvNHWC

// convAttrNames are the Conv attributes QConvNHWC takes over.
var convAttrNames = []string{"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}

// quantWeights are the constant weights of a quantized Conv: the 8-bit initializer and its
// scale and zero point (per tensor or per output channel).
type quantWeights struct {
	q, scale, zero *ir.Value
	scales         []float32
}

// weightsOf matches DQ(w) with constant 8-bit w [M, C/group, KH, KW] and scales per tensor or
// per output channel (axis 0).
func weightsOf(v *ir.Value) (quantWeights, bool) {
	dq := v.Producer()
	if !isOp(dq, "DequantizeLinear") || len(dq.Inputs()) < 2 || dq.AttrInt("block_size", 0) != 0 {
		return quantWeights{}, false
	}
	w := quantWeights{q: dq.Input(0), scale: dq.Input(1)}
	if w.q == nil || w.q.Const == nil || (w.q.Const.DataType != ir.Int8 && w.q.Const.DataType != ir.Uint8) ||
		len(w.q.Const.Dims) != 4 || w.scale == nil || w.scale.Const == nil || w.scale.Const.DataType != ir.Float {
		return quantWeights{}, false
	}
	m := w.q.Const.Dims[0]
	scales, err := w.scale.Const.Float32s()
	if err != nil || (len(scales) != 1 && int64(len(scales)) != m) {
		return quantWeights{}, false
	}
	if len(scales) > 1 {
		if axis := dq.AttrInt("axis", 1); axis != 0 && axis != -4 {
			return quantWeights{}, false
		}
	}
	for _, s := range scales {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return quantWeights{}, false
		}
	}
	w.scales = scales
	if len(dq.Inputs()) > 2 && dq.Input(2) != nil {
		z := dq.Input(2)
		if z.Const == nil || z.Const.DataType != w.q.Const.DataType {
			return quantWeights{}, false
		}
		if n, err := z.Const.NumElements(); err != nil || n != int64(len(scales)) {
			return quantWeights{}, false
		}
		w.zero = z
	}
	return w, true
}

// biasOf returns a Conv's bias as int32 in units of x_scale·w_scale[j], the accumulator's
// unit: the quantized bias itself when its scale is exactly that (as quantizers write it),
// otherwise a new initializer holding the bias rounded to that unit (float biases, as
// TensorRT's layout keeps them, or a bias quantized with other scales).
func (r *qdqRewriter) biasOf(v *ir.Value, xScale float32, wScales []float32, m int) (*ir.Value, bool) {
	if v == nil {
		return nil, true
	}
	unit := func(j int) float32 { return xScale * wScales[min(j, len(wScales)-1)] }
	var real []float64 // the bias in float, per output channel
	if dq := v.Producer(); isOp(dq, "DequantizeLinear") {
		bq, bs := dq.Input(0), dq.Input(1)
		if bq == nil || bq.Const == nil || bq.Const.DataType != ir.Int32 || bs == nil || bs.Const == nil ||
			bs.Const.DataType != ir.Float || (len(dq.Inputs()) > 2 && dq.Input(2) != nil && !allZero(dq.Input(2))) {
			return nil, false
		}
		q, err1 := bq.Const.Int64s()
		s, err2 := bs.Const.Float32s()
		if err1 != nil || err2 != nil || len(q) != m || (len(s) != 1 && len(s) != m) {
			return nil, false
		}
		exact := true
		for j := range q {
			if s[min(j, len(s)-1)] != unit(j) {
				exact = false
			}
		}
		if exact {
			return bq, true
		}
		for j := range q {
			real = append(real, float64(q[j])*float64(s[min(j, len(s)-1)]))
		}
	} else {
		if v.Const == nil || v.Const.DataType != ir.Float {
			return nil, false
		}
		f, err := v.Const.Float32s()
		if err != nil || len(f) != m {
			return nil, false
		}
		for _, x := range f {
			real = append(real, float64(x))
		}
	}
	out := make([]int32, m)
	for j, b := range real {
		q := math.RoundToEven(b / float64(unit(j)))
		out[j] = int32(math.Max(math.MinInt32, math.Min(math.MaxInt32, q)))
	}
	return r.g.AddInitializer(ir.FromInt32(r.c.Fresh(v.Name+"_int32"), []int64{int64(m)}, out)), true
}

func allZero(v *ir.Value) bool {
	if v.Const == nil {
		return false
	}
	z, err := v.Const.Int64s()
	if err != nil {
		return false
	}
	for _, x := range z {
		if x != 0 {
			return false
		}
	}
	return true
}

func (r *qdqRewriter) conv(conv *ir.Node) (bool, error) {
	in := conv.Inputs()
	if len(in) < 2 || !rank4(conv.Output(0)) {
		return false, nil
	}
	_, xq, px, ok := dequantized(in[0])
	if !ok || !rank4(xq) {
		return false, nil
	}
	w, ok := weightsOf(in[1])
	if !ok {
		return false, nil
	}
	var bv *ir.Value
	if len(in) > 2 {
		bv = in[2]
	}
	chain, q, py, act, ok := r.quantizedOutput(conv.Output(0))
	if !ok {
		return false, nil
	}
	bias, ok := r.biasOf(bv, px.s, w.scales, int(w.q.Const.Dims[0]))
	if !ok {
		return false, nil
	}
	x := r.toNHWC(xq, q)
	inputs := []*ir.Value{x, px.scale, px.zero, w.q, w.scale, w.zero, py.scale, py.zero}
	if bias != nil {
		inputs = append(inputs, bias)
	}
	var attrs []*ir.Attr
	for _, name := range convAttrNames {
		if a := conv.Attr(name); a != nil {
			attrs = append(attrs, a)
		}
	}
	attrs = append(attrs, act.attrs()...)
	yq := q.Output(0)
	fused := r.g.NewNode(Domain, OpQConvNHWC, inputs, []string{r.c.Fresh(yq.Name + "_nhwc")}, attrs...)
	fused.Name = conv.Name
	t := nhwcType(conv.Output(0).Type)
	t.Elem = py.dt
	fused.Output(0).Type = t
	r.g.InsertBefore(q, fused)
	return true, r.finish(q, append([]*ir.Node{conv}, chain...), fused.Output(0))
}
