package passes

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/whittle-ml/whittle/ir"
)

// quantizer carries the state of one quantization rewrite.
type quantizer struct {
	r      *rewriter
	m      *ir.Model
	g      *ir.Graph
	opts   QuantizeOptions
	report *QuantizeReport
	// nodeNames holds the main graph's node names, so new nodes get unique ones.
	nodeNames *ir.Names
	// pos is each original node's position, to place Q/DQ before the first reader.
	pos map[*ir.Node]int
	// params of every activation tensor quantized so far, and of quantized constants.
	params map[*ir.Value]qparams
	// paramConsts shares one scale/zero-point initializer pair per distinct parameters.
	paramConsts map[qparams][2]*ir.Value
	// dq maps a tensor (activation or constant) to the DequantizeLinear output that
	// replaced it.
	dq map[*ir.Value]*ir.Value
	// dqOf is the inverse of dq: the value a DequantizeLinear output stands for.
	dqOf map[*ir.Value]*ir.Value
	// weights caches quantized weights by (value, axis).
	weights map[weightKey]*quantizedWeight
	// weightBytes counts float bytes replaced, once per weight.
	oldConsts map[*ir.Value]bool
}

type weightKey struct {
	v    *ir.Value
	axis int
}

type quantizedWeight struct {
	out    *ir.Value // the DequantizeLinear output
	scales []float32
	axis   int
}

func newQuantizer(ctx *Context, m *ir.Model, opts QuantizeOptions, mode string) *quantizer {
	q := &quantizer{
		r: newRewriter(ctx, m), m: m, g: m.Graph, opts: opts,
		report:      &QuantizeReport{Mode: mode},
		nodeNames:   ir.NodeNames(m.Graph),
		pos:         map[*ir.Node]int{},
		params:      map[*ir.Value]qparams{},
		paramConsts: map[qparams][2]*ir.Value{},
		dq:          map[*ir.Value]*ir.Value{},
		dqOf:        map[*ir.Value]*ir.Value{},
		weights:     map[weightKey]*quantizedWeight{},
		oldConsts:   map[*ir.Value]bool{},
	}
	q.indexNodes()
	return q
}

func (q *quantizer) indexNodes() {
	for i, n := range q.g.Nodes() {
		q.pos[n] = i
	}
}

func (q *quantizer) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, n := range q.report.Notes {
		if n == msg {
			return
		}
	}
	q.report.Notes = append(q.report.Notes, msg)
}

// newNode adds a node before ref named after hint.
func (q *quantizer) newNode(ref *ir.Node, op string, inputs []*ir.Value, outHints []string, hint string, attrs ...*ir.Attr) *ir.Node {
	n := q.r.newNode(q.g, ref, "", op, inputs, outHints, attrs...)
	n.Name = q.nodeNames.Fresh(hint)
	return n
}

// paramInits returns the scale and zero-point initializers of p, shared between every
// Q/DQ that uses the same parameters.
func (q *quantizer) paramInits(p qparams, hint string) (scale, zp *ir.Value) {
	if c, ok := q.paramConsts[p]; ok {
		return c[0], c[1]
	}
	scale = q.r.addConst(q.g, hint+"_scale", ir.FromFloat32("", nil, []float32{p.scale}))
	zp = q.r.addConst(q.g, hint+"_zero_point", intTensor("", p.typ, nil, []int32{p.zp}))
	q.paramConsts[p] = [2]*ir.Value{scale, zp}
	return scale, zp
}

// firstReader returns the earliest original node reading v (nil when none).
func (q *quantizer) firstReader(v *ir.Value) *ir.Node {
	var best *ir.Node
	for _, u := range v.Uses() {
		p, ok := q.pos[u.Node]
		if !ok {
			continue
		}
		if best == nil || p < q.pos[best] {
			best = u.Node
		}
	}
	return best
}

// insertQDQ puts QuantizeLinear -> DequantizeLinear with parameters p on activation v,
// before its first reader, and makes every node reading v read the DequantizeLinear
// output instead (graph outputs keep v).
func (q *quantizer) insertQDQ(v *ir.Value, p qparams) *ir.Value {
	if out, ok := q.dq[v]; ok {
		return out
	}
	ref := q.firstReader(v)
	scale, zp := q.paramInits(p, v.Name)
	qn := q.newNode(ref, "QuantizeLinear", []*ir.Value{v, scale, zp}, []string{v.Name + "_QuantizeLinear_Output"}, v.Name+"_QuantizeLinear")
	dn := q.newNode(ref, "DequantizeLinear", []*ir.Value{qn.Output(0), scale, zp}, []string{v.Name + "_DequantizeLinear_Output"}, v.Name+"_DequantizeLinear")
	if v.Type != nil {
		t := v.Type.Clone()
		t.Elem = p.typ
		qn.Output(0).Type = t
		dn.Output(0).Type = v.Type.Clone()
	}
	for _, u := range append([]ir.Use(nil), v.Uses()...) {
		if u.Node != qn {
			q.r.setInput(u.Node, u.Index, dn.Output(0))
		}
	}
	q.dq[v] = dn.Output(0)
	q.dqOf[dn.Output(0)] = v
	q.params[v] = p
	q.report.QDQPairs++
	return dn.Output(0)
}

// constAsActivation stores constant c (read by node n) in the activation type with its
// own min-max range, behind a DequantizeLinear; constants read by several nodes are
// quantized once.
func (q *quantizer) constAsActivation(n *ir.Node, idx int) (*ir.Value, qparams, error) {
	c := n.Input(idx)
	if out, ok := q.dq[c]; ok {
		return out, q.params[c], nil
	}
	t := constOf(c)
	xs, err := t.Float32s()
	if err == nil {
		err = finite(xs)
	}
	if err != nil {
		return nil, qparams{}, fmt.Errorf("%s input %d (%q): %w", n.Describe(), idx, c.Name, err)
	}
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	if len(xs) == 0 {
		lo, hi = 0, 0
	}
	p := activationParams(Range{lo, hi}, q.opts.ActivationType)
	qmin, qmax := qrange(p.typ)
	vals := make([]int32, len(xs))
	for i, x := range xs {
		vals[i] = quantizeValue(x, p.scale, p.zp, qmin, qmax)
	}
	qc := q.r.addConst(q.g, c.Name+"_quantized", intTensor("", p.typ, t.Dims, vals))
	scale, zp := q.paramInits(p, c.Name)
	dn := q.newNode(n, "DequantizeLinear", []*ir.Value{qc, scale, zp}, []string{c.Name + "_DequantizeLinear_Output"}, c.Name+"_DequantizeLinear")
	dn.Output(0).Type = ir.TensorTypeOf(ir.Float, t.Dims...)
	q.dq[c] = dn.Output(0)
	q.dqOf[dn.Output(0)] = c
	q.params[c] = p
	q.oldConsts[c] = true
	q.report.Weights++
	return dn.Output(0), p, nil
}

// weightAxis returns the per-channel axis of n's weight input, or -1 for per tensor.
func (q *quantizer) weightAxis(n *ir.Node, w *ir.Tensor) int {
	if !q.opts.PerChannel {
		return -1
	}
	if opsetOf(q.m) < 13 {
		q.note("opset %d has no per-axis DequantizeLinear (axis came in 13): weights are per tensor", opsetOf(q.m))
		return -1
	}
	switch n.OpType {
	case "Conv":
		return 0
	case "ConvTranspose":
		if n.AttrInt("group", 1) != 1 {
			return -1 // output channels span groups; axis 1 holds only M/group of them
		}
		return 1
	case "Gemm":
		if len(w.Dims) != 2 {
			return -1
		}
		if n.AttrInt("transB", 0) != 0 {
			return 0
		}
		return 1
	case "MatMul":
		if len(w.Dims) == 2 {
			return 1
		}
	}
	return -1
}

// weight stores n's weight input (int8, symmetric) behind a DequantizeLinear.
func (q *quantizer) weight(n *ir.Node, idx int) (*quantizedWeight, error) {
	v := n.Input(idx)
	t := constOf(v)
	axis := q.weightAxis(n, t)
	if qw, ok := q.weights[weightKey{v, axis}]; ok {
		q.r.setInput(n, idx, qw.out)
		return qw, nil
	}
	wq, err := quantizeWeights(t, axis, 8, q.opts.ReduceRange)
	if err != nil {
		return nil, fmt.Errorf("%s weight %q: %w", n.Describe(), v.Name, err)
	}
	qv := q.r.addConst(q.g, v.Name+"_quantized", int8Tensor(t.Dims, wq.q))
	scale := q.r.addConst(q.g, v.Name+"_scale", scalarOrVector("", wq.scales, axis < 0))
	zp := q.r.addConst(q.g, v.Name+"_zero_point", intTensorShaped(ir.Int8, len(wq.scales), axis < 0))
	var attrs []*ir.Attr
	if axis >= 0 {
		attrs = append(attrs, ir.IntAttr("axis", int64(axis)))
	}
	dn := q.newNode(n, "DequantizeLinear", []*ir.Value{qv, scale, zp}, []string{v.Name + "_DequantizeLinear_Output"}, v.Name+"_DequantizeLinear", attrs...)
	dn.Output(0).Type = ir.TensorTypeOf(ir.Float, t.Dims...)
	qw := &quantizedWeight{out: dn.Output(0), scales: wq.scales, axis: axis}
	q.weights[weightKey{v, axis}] = qw
	q.r.setInput(n, idx, qw.out)
	q.oldConsts[v] = true
	q.report.Weights++
	return qw, nil
}

func intTensorShaped(dt ir.DataType, n int, scalar bool) *ir.Tensor {
	if scalar {
		return intTensor("", dt, nil, zeros(1))
	}
	return intTensor("", dt, []int64{int64(n)}, zeros(n))
}

// bias stores n's bias input as int32 with scale input_scale × weight_scale (per output
// channel when the weight is per channel) and zero point 0, behind a DequantizeLinear.
func (q *quantizer) bias(n *ir.Node, idx int, in qparams, w *quantizedWeight) error {
	v := n.Input(idx)
	t := constOf(v)
	xs, err := t.Float32s()
	if err == nil {
		err = finite(xs)
	}
	if err != nil {
		return fmt.Errorf("%s bias %q: %w", n.Describe(), v.Name, err)
	}
	scales := make([]float32, len(xs))
	for i := range scales {
		ws := w.scales[0]
		if w.axis >= 0 {
			if len(w.scales) != len(xs) {
				return fmt.Errorf("%s bias %q has %d elements, the weight %d channels", n.Describe(), v.Name, len(xs), len(w.scales))
			}
			ws = w.scales[i]
		}
		scales[i] = in.scale * ws
		if scales[i] == 0 {
			scales[i] = 1
		}
	}
	vals := make([]int32, len(xs))
	for i, x := range xs {
		vals[i] = quantizeValue(x, scales[i], 0, math.MinInt32+1, math.MaxInt32)
	}
	perTensor := w.axis < 0
	qv := q.r.addConst(q.g, v.Name+"_quantized", intTensor("", ir.Int32, t.Dims, vals))
	scale := q.r.addConst(q.g, v.Name+"_scale", scalarOrVector("", scales, perTensor))
	zp := q.r.addConst(q.g, v.Name+"_zero_point", intTensorShaped(ir.Int32, len(xs), perTensor))
	var attrs []*ir.Attr
	if !perTensor {
		attrs = append(attrs, ir.IntAttr("axis", 0))
	}
	dn := q.newNode(n, "DequantizeLinear", []*ir.Value{qv, scale, zp}, []string{v.Name + "_DequantizeLinear_Output"}, v.Name+"_DequantizeLinear", attrs...)
	dn.Output(0).Type = ir.TensorTypeOf(ir.Float, t.Dims...)
	q.r.setInput(n, idx, dn.Output(0))
	q.oldConsts[v] = true
	q.report.Weights++
	return nil
}

// removeUnusedConsts drops the float weights that quantized copies replaced.
func (q *quantizer) removeUnusedConsts() error {
	var names []*ir.Value
	for v := range q.oldConsts {
		names = append(names, v)
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Name < names[j].Name })
	for _, v := range names {
		q.report.FloatBytes += tensorBytes(v.Const)
		if len(v.Uses()) > 0 || v.IsGraphOutput() {
			continue
		}
		if v.Const != nil {
			if err := q.r.removeInitializer(v); err != nil {
				return err
			}
		} else if p := v.Producer(); p != nil && len(p.Outputs()) == 1 {
			if err := q.r.removeNode(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// QuantizeStatic quantizes m in place with the QDQ layout, using calibration ranges keyed
// by tensor name (CollectRanges over PlanQuantization(m).CalibrationTensors()). Every
// change is logged in ctx's change log. Run PrepareForQuantization on m first (once) and
// calibrate the prepared model: CalibrateStatic does both.
func QuantizeStatic(ctx *Context, m *ir.Model, opts QuantizeOptions, ranges map[string]Range) (*QuantizeReport, error) {
	if ctx == nil {
		ctx = &Context{}
	}
	plan, err := PlanQuantization(m, opts)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, name := range plan.tensors {
		if _, ok := ranges[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		if len(missing) > 5 {
			missing = append(missing[:5], fmt.Sprintf("and %d more", len(missing)-5))
		}
		return nil, fmt.Errorf("quantize: no calibration range for %s", strings.Join(missing, ", "))
	}
	q := newQuantizer(ctx, m, opts, "static")
	q.report.Skipped = plan.skipped
	// Fold Relu/Clip into the preceding op's output: with asymmetric activations the
	// activation goes and the op's output takes its name (and so its range); with
	// symmetric ones it stays as a share node.
	outRange := map[*ir.Node]Range{}
	for _, n := range plan.order {
		act := plan.folded[n]
		if act == nil {
			continue
		}
		q.report.Folded = append(q.report.Folded, nodeLabel(act))
		outRange[n] = ranges[act.Output(0).Name]
		if opts.symmetric() {
			continue
		}
		out, aout := n.Output(0), act.Output(0)
		name := aout.Name
		q.r.replaceAllUses(aout, out)
		if err := q.r.removeNode(act); err != nil {
			return nil, err
		}
		q.r.rename(out, name)
		if aout.Type != nil {
			out.Type = aout.Type.Clone()
		}
	}
	q.indexNodes()
	// paramsOf returns the parameters of activation v written by a chosen node (or
	// read by one), deriving them the way the node's role says.
	var paramsOf func(v *ir.Value) (qparams, error)
	paramsOf = func(v *ir.Value) (qparams, error) {
		if orig, ok := q.dqOf[v]; ok {
			v = orig // already quantized: the reader sees its DequantizeLinear output
		}
		if p, ok := q.params[v]; ok {
			return p, nil
		}
		if n := v.Producer(); n != nil {
			if qo, chosen := plan.nodes[n]; chosen && v == n.Output(0) {
				switch qo.role {
				case roleShare:
					in := n.Input(0)
					if constOf(in) != nil {
						_, p, err := q.constAsActivation(n, 0)
						return p, err
					}
					return paramsOf(in)
				case roleFixed:
					return fixedParams(opts.ActivationType), nil
				case roleCompute:
					if r, ok := outRange[n]; ok {
						return activationParams(r, opts.ActivationType), nil
					}
				}
			}
		}
		r, ok := ranges[v.Name]
		if !ok {
			return qparams{}, fmt.Errorf("quantize: no calibration range for %q", v.Name)
		}
		return activationParams(r, opts.ActivationType), nil
	}
	for _, n := range plan.order {
		qo := plan.nodes[n]
		// Inputs: activations get a Q/DQ pair (shared by every reader), constants are
		// stored in the activation type.
		var inParams qparams
		for k, i := range dataInputs(n, qo) {
			v := n.Input(i)
			var p qparams
			if orig, ok := q.dqOf[v]; ok {
				p = q.params[orig] // already quantized by the producer's output Q/DQ
			} else if constOf(v) != nil {
				if _, p, err = q.constAsActivation(n, i); err != nil {
					return nil, err
				}
				q.r.setInput(n, i, q.dq[v])
			} else {
				if p, err = paramsOf(v); err != nil {
					return nil, err
				}
				q.insertQDQ(v, p)
			}
			if k == 0 {
				inParams = p
			}
		}
		how := "static"
		if qo.weight >= 0 && n.Input(qo.weight) != nil && constOf(n.Input(qo.weight)) != nil {
			qw, err := q.weight(n, qo.weight)
			if err != nil {
				return nil, err
			}
			if qw.axis >= 0 {
				how += fmt.Sprintf(", per-channel axis %d", qw.axis)
			} else {
				how += ", per-tensor"
			}
			if b := n.Input(qo.bias); qo.bias >= 0 && b != nil && !opts.FloatBias {
				if reason := biasUnquantizable(n, constOf(b), qw); reason != "" {
					q.note("%s: bias stays float (%s)", nodeLabel(n), reason)
				} else if err := q.bias(n, qo.bias, inParams, qw); err != nil {
					return nil, err
				}
			}
		}
		q.report.Quantized = append(q.report.Quantized, QuantizedNode{Node: nodeLabel(n), Op: opLabel(n), How: how})
		// Output: a Q/DQ pair unless it is a graph output (which keeps its float value
		// and name) or nothing reads it.
		out := n.Output(0)
		if out.IsGraphOutput() || len(out.Uses()) == 0 {
			continue
		}
		p, err := paramsOf(out)
		if err != nil {
			return nil, err
		}
		q.insertQDQ(out, p)
	}
	if err := q.removeUnusedConsts(); err != nil {
		return nil, err
	}
	q.report.QuantBytes = quantBytes(q)
	return q.report, nil
}

// biasUnquantizable returns why a bias cannot be stored as int32 with scale
// input_scale × weight_scale, or "".
func biasUnquantizable(n *ir.Node, b *ir.Tensor, w *quantizedWeight) string {
	if b == nil {
		return "not constant"
	}
	if b.DataType != ir.Float || len(b.Dims) != 1 {
		return "not a 1-D float tensor"
	}
	if w.axis >= 0 && int(b.Dims[0]) != len(w.scales) {
		return "its length differs from the weight's channels"
	}
	if n.OpType == "Gemm" && (n.AttrFloat("alpha", 1) != 1 || n.AttrFloat("beta", 1) != 1) {
		return "Gemm alpha or beta is not 1"
	}
	return ""
}

// quantBytes adds up the initializers the quantizer created.
func quantBytes(q *quantizer) int64 {
	var n int64
	for _, v := range q.g.Initializers {
		if q.r.fresh[v] {
			n += tensorBytes(v.Const)
		}
	}
	return n
}
