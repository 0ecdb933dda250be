package prepare

import (
	"github.com/whittle-ml/whittle/ir"
)

// The elementwise and pooling groups of qdqRegions:
//
//	DQ(a), DQ(b) → Add [→ Relu | Clip] → Q          ⇒  QAdd
//	DQ(x) → MaxPool → Q (same scale and zero point)  ⇒  QMaxPoolNHWC
//	DQ(x) → GlobalAveragePool → Q                    ⇒  QGlobalAveragePoolNHWC

func (r *qdqRewriter) add(add *ir.Node) (bool, error) {
	if len(add.Inputs()) != 2 {
		return false, nil
	}
	_, aq, pa, okA := dequantized(add.Input(0))
	_, bq, pb, okB := dequantized(add.Input(1))
	if !okA || !okB || !sameDims(aq, bq) || !sameDims(aq, add.Output(0)) {
		return false, nil
	}
	return r.binary(add, OpQAdd, aq, bq, pa, pb)
}

// binary puts the private operator op in place of DQ(a) op DQ(b) [→ Relu | Clip] → Q: on the
// NHWC twins of 4-D operands, else on the operands as they are.
func (r *qdqRewriter) binary(n *ir.Node, op string, aq, bq *ir.Value, pa, pb qparam) (bool, error) {
	chain, q, py, act, ok := r.quantizedOutput(n.Output(0))
	if !ok {
		return false, nil
	}
	yq := q.Output(0)
	nodes := append([]*ir.Node{n}, chain...)
	if !rank4(aq) {
		// Any other rank: the same kernel on the tensors as they are, in place of the group.
		fused := r.g.NewNode(Domain, op, []*ir.Value{aq, pa.scale, pa.zero, bq, pb.scale, pb.zero, py.scale, py.zero},
			r.c.tmpNames(q), act.attrs()...)
		fused.Name = n.Name
		return true, r.replaceGroup(append(nodes, q), q, fused)
	}
	a, b := r.toNHWC(aq, q), r.toNHWC(bq, q)
	fused := r.g.NewNode(Domain, op, []*ir.Value{a, pa.scale, pa.zero, b, pb.scale, pb.zero, py.scale, py.zero},
		[]string{r.c.Fresh(yq.Name + "_nhwc")}, act.attrs()...)
	fused.Name = n.Name
	t := nhwcType(aq.Type)
	t.Elem = py.dt
	fused.Output(0).Type = t
	r.g.InsertBefore(q, fused)
	return true, r.finish(q, nodes, fused.Output(0))
}

// replaceGroup is replace for a group ending in a QuantizeLinear whose output the fused node
// now computes in the same layout.
func (r *qdqRewriter) replaceGroup(nodes []*ir.Node, q, fused *ir.Node) error {
	if err := replace(r.g, nodes, q, fused); err != nil {
		return err
	}
	for _, n := range nodes {
		r.removed[n] = true
	}
	return nil
}

// poolAttrNames are the MaxPool attributes QMaxPoolNHWC takes over (storage_order concerns
// the Indices output only, which the match excludes).
var poolAttrNames = []string{"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "strides"}

func (r *qdqRewriter) maxPool(pool *ir.Node) (bool, error) {
	if len(pool.Outputs()) > 1 && pool.Output(1) != nil && len(pool.Output(1).Uses()) > 0 {
		return false, nil
	}
	if k := pool.AttrInts("kernel_shape", nil); len(k) != 2 || !rank4(pool.Output(0)) {
		return false, nil
	}
	_, xq, px, ok := dequantized(pool.Input(0))
	if !ok || !rank4(xq) {
		return false, nil
	}
	q := r.c.soleUser(pool.Output(0))
	if !isOp(q, "QuantizeLinear") {
		return false, nil
	}
	if py, ok := perTensorParams(q); !ok || !py.same(px) {
		return false, nil
	}
	var attrs []*ir.Attr
	for _, name := range poolAttrNames {
		if a := pool.Attr(name); a != nil {
			attrs = append(attrs, a)
		}
	}
	yq := q.Output(0)
	fused := r.g.NewNode(Domain, OpQMaxPoolNHWC, []*ir.Value{r.toNHWC(xq, q)}, []string{r.c.Fresh(yq.Name + "_nhwc")}, attrs...)
	fused.Name = pool.Name
	t := nhwcType(pool.Output(0).Type)
	t.Elem = px.dt
	fused.Output(0).Type = t
	r.g.InsertBefore(q, fused)
	return true, r.finish(q, []*ir.Node{pool}, fused.Output(0))
}

// globalAveragePool: the output, [N, C, 1, 1], has the same bytes in both layouts, so the
// fused node writes it under the QuantizeLinear output's own name.
func (r *qdqRewriter) globalAveragePool(pool *ir.Node) (bool, error) {
	_, xq, px, ok := dequantized(pool.Input(0))
	if !ok || !rank4(xq) {
		return false, nil
	}
	q := r.c.soleUser(pool.Output(0))
	if !isOp(q, "QuantizeLinear") {
		return false, nil
	}
	py, ok := perTensorParams(q)
	if !ok {
		return false, nil
	}
	fused := r.g.NewNode(Domain, OpQGlobalAveragePoolNHWC, []*ir.Value{r.toNHWC(xq, q), px.scale, px.zero, py.scale, py.zero}, r.c.tmpNames(q))
	fused.Name = pool.Name
	return true, r.replaceGroup([]*ir.Node{pool, q}, q, fused)
}

// activation folds DQ(x) → Relu|Clip → Q with the parameters of x's own quantization (the
// int8 symmetric layout keeps activations between two QuantizeLinear nodes) into the clamp
// of the integer kernel that computes x, when nothing else reads x.
func (r *qdqRewriter) activation(act *ir.Node) (bool, error) {
	dq, xq, px, ok := dequantized(act.Input(0))
	if !ok || r.c.soleUser(dq.Output(0)) != act {
		return false, nil
	}
	y, ok := r.nhwc[xq.Name]
	if !ok || r.c.soleUser(xq) != dq || len(y.Uses()) != 1 || y.Uses()[0].Node != xq.Producer() {
		return false, nil
	}
	producer := y.Producer()
	if producer.Domain != Domain || (producer.OpType != OpQConvNHWC && producer.OpType != OpQAdd) {
		return false, nil
	}
	chain, q, py, a, ok := r.quantizedOutput(dq.Output(0))
	if !ok || len(chain) != 1 || !py.same(px) {
		return false, nil
	}
	if a.lo != nil {
		lo := *a.lo
		if old := producer.Attr("act_min"); old != nil {
			lo = max(lo, old.Float)
		}
		producer.SetAttr(ir.FloatAttr("act_min", lo))
	}
	if a.hi != nil {
		hi := *a.hi
		if old := producer.Attr("act_max"); old != nil {
			hi = min(hi, old.Float)
		}
		producer.SetAttr(ir.FloatAttr("act_max", hi))
	}
	// x's restore now stands for q's output: same NHWC twin, clamped.
	yq := q.Output(0)
	yq.ReplaceAllUsesWith(xq)
	for i, out := range r.g.Outputs {
		if out == yq {
			r.g.ReplaceOutput(i, xq)
		}
	}
	if err := r.remove([]*ir.Node{dq, act, q}); err != nil {
		return false, err
	}
	delete(r.nhwc, xq.Name)
	xq.Name = yq.Name
	xq.Type = yq.Type
	r.nhwc[xq.Name] = y
	return true, nil
}

// lookupOps are the unary operators whose QDQ groups become QLookup tables: elementwise on
// one input (other inputs constant), so 256 input bytes determine every output.
var lookupOps = map[string]bool{
	"Sigmoid": true, "Tanh": true, "HardSigmoid": true, "HardSwish": true, "LeakyRelu": true,
	"Elu": true, "Selu": true, "Celu": true, "Softplus": true, "Softsign": true, "Exp": true,
	"Neg": true, "Abs": true, "Erf": true, "Gelu": true, "Mish": true, "Relu": true, "Clip": true,
	"ThresholdedRelu": true, "Sqrt": true, "Reciprocal": true, "Log": true,
}

// lookup replaces DQ(x) → op → Q by the table of op's results on x's 256 values, in the layout
// x has an 8-bit twin in.
func (r *qdqRewriter) lookup(n *ir.Node) (bool, error) {
	_, xq, px, ok := dequantized(n.Input(0))
	if !ok || len(n.Outputs()) != 1 {
		return false, nil
	}
	for _, v := range n.Inputs()[1:] {
		if v != nil && v.Const == nil {
			return false, nil
		}
	}
	q := r.c.soleUser(n.Output(0))
	if !isOp(q, "QuantizeLinear") {
		return false, nil
	}
	py, ok := perTensorParams(q)
	if !ok {
		return false, nil
	}
	opset, ok := r.c.Model.Opset("")
	if !ok {
		return false, nil
	}
	attrs := append(append([]*ir.Attr(nil), n.Attrs...), ir.StringAttr("lookup_op", n.OpType), ir.IntAttr("lookup_opset", opset))
	inputs := append([]*ir.Value{xq, px.scale, px.zero, py.scale, py.zero}, n.Inputs()[1:]...)
	yq := q.Output(0)
	if twin, ok := r.nhwc[xq.Name]; ok {
		inputs[0] = twin
		fused := r.g.NewNode(Domain, OpQLookup, inputs, []string{r.c.Fresh(yq.Name + "_nhwc")}, attrs...)
		fused.Name = n.Name
		t := *twin.Type
		t.Elem = py.dt
		fused.Output(0).Type = &t
		r.g.InsertBefore(q, fused)
		return true, r.finish(q, []*ir.Node{n}, fused.Output(0))
	}
	fused := r.g.NewNode(Domain, OpQLookup, inputs, r.c.tmpNames(q), attrs...)
	fused.Name = n.Name
	return true, r.replaceGroup([]*ir.Node{n, q}, q, fused)
}

// perChannelOf reports whether b ([N, C, 1, 1]) scales a ([N, C, H, W]) channel by channel.
func perChannelOf(a, b *ir.Value) bool {
	if !rank4(a) || !rank4(b) {
		return false
	}
	da, db := a.Type.Dims, b.Type.Dims
	same := func(x, y ir.Dim) bool {
		return (x.IsKnown() && y.IsKnown() && x.Value == y.Value) || (x.Param != "" && x.Param == y.Param)
	}
	one := func(d ir.Dim) bool { return d.IsKnown() && d.Value == 1 }
	return same(da[0], db[0]) && same(da[1], db[1]) && one(db[2]) && one(db[3])
}

// mul replaces DQ(a) * DQ(b) → Q: same shapes in the operands' layout, or a per-channel
// scale in NHWC.
func (r *qdqRewriter) mul(mul *ir.Node) (bool, error) {
	if len(mul.Inputs()) != 2 {
		return false, nil
	}
	_, aq, pa, okA := dequantized(mul.Input(0))
	_, bq, pb, okB := dequantized(mul.Input(1))
	if !okA || !okB {
		return false, nil
	}
	if perChannelOf(bq, aq) && !perChannelOf(aq, bq) {
		aq, bq, pa, pb = bq, aq, pb, pa
	}
	broadcast := perChannelOf(aq, bq) && !sameDims(aq, bq)
	if !(sameDims(aq, bq) || broadcast) || !sameDims(aq, mul.Output(0)) {
		return false, nil
	}
	return r.binary(mul, OpQMul, aq, bq, pa, pb)
}

// concat replaces DQ(x_i)... → Concat → Q by QConcat: 4-D operands on their NHWC twins (the
// axis mapped to NHWC), others as they are.
func (r *qdqRewriter) concat(n *ir.Node) (bool, error) {
	in := n.Inputs()
	if len(in) < 1 {
		return false, nil
	}
	xs := make([]*ir.Value, len(in))
	ps := make([]qparam, len(in))
	for i, v := range in {
		_, x, p, ok := dequantized(v)
		if !ok || x.Type == nil || !x.Type.HasShape || len(x.Type.Dims) != len(in[0].Type.Dims) {
			return false, nil
		}
		xs[i], ps[i] = x, p
	}
	rank := int64(len(xs[0].Type.Dims))
	axis := n.AttrInt("axis", 0)
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return false, nil
	}
	q := r.c.soleUser(n.Output(0))
	if !isOp(q, "QuantizeLinear") {
		return false, nil
	}
	py, ok := perTensorParams(q)
	if !ok {
		return false, nil
	}
	nhwc := rank == 4 && rank4(n.Output(0))
	var inputs []*ir.Value
	for i, x := range xs {
		if nhwc {
			x = r.toNHWC(x, q)
		}
		inputs = append(inputs, x, ps[i].scale, ps[i].zero)
	}
	inputs = append(inputs, py.scale, py.zero)
	if !nhwc {
		fused := r.g.NewNode(Domain, OpQConcat, inputs, r.c.tmpNames(q), ir.IntAttr("axis", axis))
		fused.Name = n.Name
		return true, r.replaceGroup([]*ir.Node{n, q}, q, fused)
	}
	yq := q.Output(0)
	fused := r.g.NewNode(Domain, OpQConcat, inputs, []string{r.c.Fresh(yq.Name + "_nhwc")}, ir.IntAttr("axis", []int64{0, 3, 1, 2}[axis]))
	fused.Name = n.Name
	t := nhwcType(n.Output(0).Type)
	t.Elem = py.dt
	fused.Output(0).Type = t
	r.g.InsertBefore(q, fused)
	return true, r.finish(q, []*ir.Node{n}, fused.Output(0))
}
