package prepare

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
)

// qdqRegions replaces the QDQ groups of a statically quantized model — the layout whittle
// quantize and ONNX Runtime's quantizer write, and TensorRT's and PyTorch's variants (int8
// symmetric activations, float biases, a Relu or Clip kept between an op and its
// QuantizeLinear) — with integer kernels that pass 8-bit tensors in NHWC layout:
//
//	DQ(x) → Conv(·, DQ(w), DQ(b) | b) [→ Relu | Clip] → Q   ⇒  QConvNHWC
//	DQ(a), DQ(b) → Add [→ Relu | Clip] → Q                  ⇒  QAdd
//	DQ(x) → MaxPool → Q (same scale and zero point)          ⇒  QMaxPoolNHWC
//	DQ(x) → GlobalAveragePool → Q                            ⇒  QGlobalAveragePoolNHWC
//	DQ(x) → Relu | Clip → Q (same parameters), x from one of the above
//	                                                         ⇒  the clamp of x's kernel
//	DQ(x) → Sigmoid | Tanh | HardSwish | ... → Q             ⇒  QLookup (a 256-entry table)
//	DQ(a), DQ(b) → Mul → Q (same shape, or b per channel)    ⇒  QMul
//	DQ(x_i)... → Concat → Q                                  ⇒  QConcat
//	DQ(a) → Gemm | MatMul(·, DQ(w)...) [→ Q]                 ⇒  QGemm (qdq_gemm.go)
//	DQ(x) → Flatten | Reshape | ... → Q (same parameters)    ⇒  the shape op on x
//
// DQ and Q here are per-tensor DequantizeLinear/QuantizeLinear with constant parameters;
// weights are constant int8 or uint8 (per tensor or per output channel). A region's input
// enters NHWC through QuantizeNHWC (when it is the QuantizeLinear of a float tensor) or
// QToNHWC; a quantized value that something outside the integer kernels still reads (a
// DequantizeLinear feeding a float op, a graph output, a kept value) is restored in NCHW
// under its own name by QToNCHW. Values the kernels compute in NHWC get new names.
//
// The integer kernels compute each group's result in integer arithmetic with one rounding
// (QAdd and the pools reproduce the float operators exactly; convolutions round their
// exact int32 sums once, where the float chain rounds every product): within one
// quantization step of the unfused graph, as ONNX Runtime's integer kernels are.
var qdqRegions = Rule{Name: "qdq_regions", Apply: applyQDQRegions}

// qdqRewriter carries the NHWC twins of quantized values through one application.
type qdqRewriter struct {
	c *Context
	g *ir.Graph
	// nhwc maps the name of an NCHW 8-bit value to the value holding it in NHWC.
	nhwc    map[string]*ir.Value
	removed map[*ir.Node]bool
}

func applyQDQRegions(c *Context, g *ir.Graph) (bool, error) {
	if c.all {
		return false, nil // every node runs as written
	}
	r := &qdqRewriter{c: c, g: g, nhwc: map[string]*ir.Value{}, removed: map[*ir.Node]bool{}}
	changed := false
	for _, n := range g.Nodes() {
		if r.removed[n] {
			continue
		}
		var ok bool
		var err error
		switch {
		case isOp(n, "Conv"):
			ok, err = r.conv(n)
		case isOp(n, "Add"):
			ok, err = r.add(n)
		case isOp(n, "MaxPool"):
			ok, err = r.maxPool(n)
		case isOp(n, "GlobalAveragePool"):
			ok, err = r.globalAveragePool(n)
		case isOp(n, "Relu") || isOp(n, "Clip"):
			if ok, err = r.activation(n); err == nil && !ok {
				ok, err = r.lookup(n)
			}
		case isDefault(n) && lookupOps[n.OpType]:
			ok, err = r.lookup(n)
		case isOp(n, "Mul"):
			ok, err = r.mul(n)
		case isOp(n, "Concat"):
			ok, err = r.concat(n)
		case isOp(n, "Gemm") || isOp(n, "MatMul"):
			ok, err = r.gemm(n)
		case isDefault(n) && shapeOps[n.OpType]:
			ok, err = r.shape(n)
		}
		if err != nil {
			return changed, err
		}
		changed = changed || ok
	}
	if changed {
		if err := r.removeDead(); err != nil {
			return changed, err
		}
		removeUnusedInitializers(g)
	}
	return changed, nil
}

// qparam is the constant per-tensor scale and zero point of a QuantizeLinear or
// DequantizeLinear with an 8-bit integer type.
type qparam struct {
	scale, zero *ir.Value // zero is nil when absent (uint8, 0)
	s           float32
	z           int32
	dt          ir.DataType
}

func (p qparam) same(o qparam) bool { return p.s == o.s && p.z == o.z && p.dt == o.dt }

func perTensorParams(n *ir.Node) (qparam, bool) {
	if n.AttrInt("block_size", 0) != 0 || len(n.Inputs()) < 2 || n.Input(1) == nil {
		return qparam{}, false
	}
	s, ok := constScalar(n.Input(1))
	if !ok || !(s > 0) || math.IsInf(float64(s), 0) {
		return qparam{}, false
	}
	p := qparam{scale: n.Input(1), s: s, dt: ir.Uint8}
	if od := ir.DataType(n.AttrInt("output_dtype", 0)); od != 0 {
		p.dt = od
	}
	if len(n.Inputs()) > 2 && n.Input(2) != nil {
		zv := n.Input(2)
		if zv.Const == nil {
			return qparam{}, false
		}
		z, err := zv.Const.Int64s()
		if err != nil || len(z) != 1 {
			return qparam{}, false
		}
		p.zero, p.z, p.dt = zv, int32(z[0]), zv.Const.DataType
	}
	return p, p.dt == ir.Uint8 || p.dt == ir.Int8
}

// dequantized returns the per-tensor DequantizeLinear producing v and its 8-bit input.
func dequantized(v *ir.Value) (dq *ir.Node, x *ir.Value, p qparam, ok bool) {
	if v == nil {
		return nil, nil, p, false
	}
	dq = v.Producer()
	if !isOp(dq, "DequantizeLinear") {
		return nil, nil, p, false
	}
	p, ok = perTensorParams(dq)
	x = dq.Input(0)
	if !ok || x == nil || (x.Type != nil && x.Type.Kind == ir.TensorKind && x.Type.Elem != p.dt) {
		return nil, nil, p, false
	}
	return dq, x, p, true
}

// activation is a Relu or Clip folded between an op and its QuantizeLinear.
type activation struct{ lo, hi *float32 }

func (a activation) attrs() []*ir.Attr {
	var out []*ir.Attr
	if a.lo != nil {
		out = append(out, ir.FloatAttr("act_min", *a.lo))
	}
	if a.hi != nil {
		out = append(out, ir.FloatAttr("act_max", *a.hi))
	}
	return out
}

// quantizedOutput follows v, read by nothing else, through an optional Relu or Clip to the
// per-tensor QuantizeLinear that reads it: the nodes passed, the QuantizeLinear and its
// parameters.
func (r *qdqRewriter) quantizedOutput(v *ir.Value) (nodes []*ir.Node, q *ir.Node, p qparam, act activation, ok bool) {
	u := r.c.soleUser(v)
	if u != nil && u.Input(0) == v && (isOp(u, "Relu") || isOp(u, "Clip")) {
		if isOp(u, "Relu") {
			zero := float32(0)
			act.lo = &zero
		} else {
			lo, hi, ok := clipBounds(u)
			if !ok {
				return nil, nil, p, act, false
			}
			act.lo, act.hi = &lo, &hi
		}
		nodes = append(nodes, u)
		u = r.c.soleUser(u.Output(0))
	}
	if !isOp(u, "QuantizeLinear") || u.Input(0) == nil {
		return nil, nil, p, act, false
	}
	p, ok = perTensorParams(u)
	return nodes, u, p, act, ok && u.Output(0) != nil
}

// rank4 reports whether v is known to be a 4-D tensor.
func rank4(v *ir.Value) bool {
	return v != nil && v.Type != nil && v.Type.Kind == ir.TensorKind && v.Type.HasShape && len(v.Type.Dims) == 4
}

// nhwcType is t (a 4-D NCHW tensor type) with its dimensions in NHWC order.
func nhwcType(t *ir.Type) *ir.Type {
	out := *t
	out.Dims = []ir.Dim{t.Dims[0], t.Dims[2], t.Dims[3], t.Dims[1]}
	return &out
}

// sameDims reports whether a and b have the same fully known or symbolic shape.
func sameDims(a, b *ir.Value) bool {
	if a == nil || b == nil || a.Type == nil || b.Type == nil || !a.Type.HasShape || !b.Type.HasShape ||
		len(a.Type.Dims) != len(b.Type.Dims) {
		return false
	}
	for i, da := range a.Type.Dims {
		db := b.Type.Dims[i]
		if da.IsKnown() && db.IsKnown() && da.Value == db.Value {
			continue
		}
		if da.Param == "" || da.Param != db.Param {
			return false
		}
	}
	return true
}

// toNHWC returns the NHWC twin of the 4-D 8-bit value v, making it before node at when it
// does not exist yet: QuantizeNHWC when v is the QuantizeLinear of a float tensor, else a
// transpose.
func (r *qdqRewriter) toNHWC(v *ir.Value, at *ir.Node) *ir.Value {
	if t, ok := r.nhwc[v.Name]; ok {
		return t
	}
	var n *ir.Node
	name := r.c.Fresh(v.Name + "_nhwc")
	if q := v.Producer(); isOp(q, "QuantizeLinear") && rank4(q.Input(0)) && isFloatTensor(q.Input(0)) {
		if p, ok := perTensorParams(q); ok {
			n = r.g.NewNode(Domain, OpQuantizeNHWC, []*ir.Value{q.Input(0), p.scale, p.zero}, []string{name})
		}
	}
	if n == nil {
		n = r.g.NewNode(Domain, OpQToNHWC, []*ir.Value{v}, []string{name})
	}
	n.Output(0).Type = nhwcType(v.Type)
	r.g.InsertBefore(at, n)
	r.nhwc[v.Name] = n.Output(0)
	return n.Output(0)
}

// finish puts fused (already inserted before q), whose output y holds q's output in NHWC, in
// place of the matched nodes ending in q: readers of q's output now read a QToNCHW of y
// under the same name, which removeDead drops once no one reads it.
func (r *qdqRewriter) finish(q *ir.Node, chain []*ir.Node, y *ir.Value) error {
	yq := q.Output(0)
	back := r.g.NewNode(Domain, OpQToNCHW, []*ir.Value{y}, []string{r.c.Fresh(yq.Name + "__nchw")})
	back.Output(0).Type = yq.Type
	r.g.InsertBefore(q, back)
	yq.ReplaceAllUsesWith(back.Output(0))
	for i, out := range r.g.Outputs {
		if out == yq {
			r.g.ReplaceOutput(i, back.Output(0))
		}
	}
	if err := r.remove(append(chain, q)); err != nil {
		return err
	}
	back.Output(0).Name = yq.Name
	r.nhwc[yq.Name] = y
	return nil
}

// remove deletes nodes, readers (later in the slice) first.
func (r *qdqRewriter) remove(nodes []*ir.Node) error {
	for i := len(nodes) - 1; i >= 0; i-- {
		if err := r.g.RemoveNode(nodes[i]); err != nil {
			return err
		}
		r.removed[nodes[i]] = true
	}
	return nil
}

// removeDead drops the quantization and layout nodes nobody reads any more: the
// DequantizeLinear nodes of fused inputs and weights, QuantizeLinear nodes whose values now
// travel in NHWC, and layout changes without readers.
func (r *qdqRewriter) removeDead() error {
	for {
		progress := false
		nodes := r.g.Nodes()
		for i := len(nodes) - 1; i >= 0; i-- {
			n := nodes[i]
			if r.removed[n] || !(isOp(n, "DequantizeLinear") || isOp(n, "QuantizeLinear") ||
				(n.Domain == Domain && (n.OpType == OpQToNCHW || n.OpType == OpQToNHWC || n.OpType == OpQuantizeNHWC))) {
				continue
			}
			dead := true
			for _, out := range n.Outputs() {
				if out != nil && (len(out.Uses()) > 0 || out.IsGraphOutput() || r.c.Kept(out)) {
					dead = false
				}
			}
			if !dead {
				continue
			}
			if err := r.remove([]*ir.Node{n}); err != nil {
				return err
			}
			progress = true
		}
		if !progress {
			return nil
		}
	}
}
