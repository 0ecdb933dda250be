package passes

import (
	"fmt"
	"sort"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/opschema"
)

// chooseWeightNodes returns the main-graph nodes of ops whose input 1 is a constant
// float weight, honouring Exclude and OpTypes; everything else is reported skipped.
func chooseWeightNodes(m *ir.Model, opts QuantizeOptions, ops map[string]bool, report *QuantizeReport) []*ir.Node {
	allowed := map[string]bool{}
	for _, op := range opts.OpTypes {
		allowed[op] = true
	}
	skip := func(n *ir.Node, reason string) {
		report.Skipped = append(report.Skipped, SkippedNode{Node: nodeLabel(n), Op: opLabel(n), Reason: reason})
	}
	var out []*ir.Node
	for _, n := range m.Graph.Nodes() {
		switch {
		case n.OpType == "Constant":
		case !ir.IsDefaultDomain(n.Domain) || !ops[n.OpType]:
			skip(n, "operator not quantized in this mode")
		case matches(n, opts.Exclude):
			skip(n, "excluded")
		case len(allowed) > 0 && !allowed[n.OpType]:
			skip(n, "not in --op-types")
		case constOf(n.Input(1)) == nil || constOf(n.Input(1)).DataType != ir.Float:
			skip(n, "weights are not a constant float tensor")
		case !isFloat32(n.Input(0)):
			skip(n, "input is not float32")
		default:
			out = append(out, n)
			continue
		}
	}
	return out
}

// QuantizeDynamic rewrites every MatMul and Gemm with a constant 2-D weight the way ORT's
// quantize_dynamic does for transformers: the input goes through DynamicQuantizeLinear
// (uint8, scale and zero point computed per run), the weight is stored int8 symmetric
// (per column with PerChannel), MatMulInteger multiplies, and the int32 result is cast
// to float and multiplied by input_scale × weight_scale. ORT fuses the group into
// DynamicQuantizeMatMul. Gemm's alpha is folded into the weight scale and its bias added
// after in float.
func QuantizeDynamic(ctx *Context, m *ir.Model, opts QuantizeOptions) (*QuantizeReport, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if v := opsetOf(m); v < 11 {
		return nil, fmt.Errorf("quantize: dynamic quantization needs opset 11 (DynamicQuantizeLinear); the model imports %d", v)
	}
	if ctx == nil {
		ctx = &Context{}
	}
	ctx.ensureTypes(m)
	q := newQuantizer(ctx, m, opts, "dynamic")
	nodes := chooseWeightNodes(m, opts, map[string]bool{"MatMul": true, "Gemm": true}, q.report)
	dynq := map[*ir.Value]*ir.Node{}
	for _, n := range nodes {
		if reason := dynamicUnsupported(n); reason != "" {
			q.report.Skipped = append(q.report.Skipped, SkippedNode{Node: nodeLabel(n), Op: opLabel(n), Reason: reason})
			continue
		}
		if err := q.dynamicMatMul(n, dynq); err != nil {
			return nil, err
		}
	}
	if err := q.removeUnusedConsts(); err != nil {
		return nil, err
	}
	q.report.QuantBytes = quantBytes(q)
	return q.report, nil
}

func dynamicUnsupported(n *ir.Node) string {
	w := constOf(n.Input(1))
	if len(w.Dims) != 2 {
		return "weight is not 2-D"
	}
	if n.OpType == "Gemm" {
		if n.AttrInt("transA", 0) != 0 {
			return "transA=1"
		}
		if c := n.Input(2); c != nil {
			if t := constOf(c); t == nil || t.DataType != ir.Float {
				return "bias is not a constant float tensor"
			}
		}
	}
	return ""
}

// transpose2D returns t's [R,C] float data as [C,R].
func transpose2D(t *ir.Tensor) (*ir.Tensor, error) {
	xs, err := t.Float32s()
	if err != nil {
		return nil, err
	}
	r, c := int(t.Dims[0]), int(t.Dims[1])
	out := make([]float32, len(xs))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[j*r+i] = xs[i*c+j]
		}
	}
	return ir.FromFloat32(t.Name, []int64{int64(c), int64(r)}, out), nil
}

func (q *quantizer) dynamicMatMul(n *ir.Node, dynq map[*ir.Value]*ir.Node) error {
	x, wv := n.Input(0), n.Input(1)
	w := constOf(wv)
	var err error
	alpha := float32(1)
	if n.OpType == "Gemm" {
		if n.AttrInt("transB", 0) != 0 {
			if w, err = transpose2D(w); err != nil {
				return fmt.Errorf("%s: %w", n.Describe(), err)
			}
		}
		alpha = n.AttrFloat("alpha", 1)
	}
	axis := -1
	if q.opts.PerChannel {
		axis = 1
	}
	wq, err := quantizeWeights(w, axis, 8, q.opts.ReduceRange)
	if err != nil {
		return fmt.Errorf("%s weight %q: %w", n.Describe(), n.Input(1).Name, err)
	}
	for i := range wq.scales {
		wq.scales[i] *= alpha
	}
	dq := dynq[x]
	if dq == nil {
		dq = q.newNode(n, "DynamicQuantizeLinear", []*ir.Value{x},
			[]string{x.Name + "_quantized", x.Name + "_scale", x.Name + "_zero_point"}, x.Name+"_DynamicQuantizeLinear")
		if x.Type != nil {
			t := x.Type.Clone()
			t.Elem = ir.Uint8
			dq.Output(0).Type = t
		}
		dq.Output(1).Type = ir.TensorTypeOf(ir.Float)
		dq.Output(2).Type = ir.TensorTypeOf(ir.Uint8)
		dynq[x] = dq
	}
	label := nodeLabel(n)
	qw := q.r.addConst(q.g, wv.Name+"_quantized", int8Tensor(w.Dims, wq.q))
	ws := q.r.addConst(q.g, wv.Name+"_scale", scalarOrVector("", wq.scales, axis < 0))
	wzp := q.r.addConst(q.g, wv.Name+"_zero_point", intTensorShaped(ir.Int8, len(wq.scales), axis < 0))
	q.oldConsts[wv] = true
	q.report.Weights++
	mmi := q.newNode(n, "MatMulInteger", []*ir.Value{dq.Output(0), qw, dq.Output(2), wzp}, []string{label + "_MatMulInteger_Output"}, label+"_MatMulInteger")
	cast := q.newNode(n, "Cast", []*ir.Value{mmi.Output(0)}, []string{label + "_Cast_Output"}, label+"_Cast", ir.IntAttr("to", int64(ir.Float)))
	scale := q.newNode(n, "Mul", []*ir.Value{dq.Output(1), ws}, []string{label + "_scales_mul_Output"}, label+"_scales_mul")
	y := q.newNode(n, "Mul", []*ir.Value{cast.Output(0), scale.Output(0)}, []string{label + "_output_scale_mul_Output"}, label+"_output_scale_mul")
	result := y.Output(0)
	if n.OpType == "Gemm" && n.Input(2) != nil {
		c := n.Input(2)
		if beta := n.AttrFloat("beta", 1); beta != 1 {
			cs, _ := constOf(c).Float32s()
			for i := range cs {
				cs[i] *= beta
			}
			c = q.r.addConst(q.g, c.Name+"_beta", ir.FromFloat32("", constOf(c).Dims, cs))
		}
		add := q.newNode(n, "Add", []*ir.Value{result, c}, []string{label + "_bias_add_Output"}, label+"_bias_add")
		result = add.Output(0)
	}
	if t := n.Output(0).Type; t != nil {
		result.Type = t.Clone()
	}
	if !q.r.replaceValue(n.Output(0), result) {
		return fmt.Errorf("%s: cannot replace output %q", n.Describe(), n.Output(0).Name)
	}
	if err := q.r.removeNode(n); err != nil {
		return err
	}
	how := "dynamic, per-tensor"
	if axis >= 0 {
		how = "dynamic, per-column"
	}
	q.report.Quantized = append(q.report.Quantized, QuantizedNode{Node: label, Op: opLabel(n), How: how})
	return nil
}

// QuantizeWeights stores the constant weights of Conv, ConvTranspose, Gemm and MatMul
// quantized behind a DequantizeLinear and leaves activations float: int8 symmetric (per
// channel with PerChannel), or with WeightBits 4 int4 in blocks of BlockSize along the
// reduction axis of MatMul/Gemm weights (DequantizeLinear-21's block_size). 4-bit needs
// opset 21; with AllowOpsetUpgrade the import is raised when every operator of the
// model means the same at 21, else it is an error.
func QuantizeWeights(ctx *Context, m *ir.Model, opts QuantizeOptions) (*QuantizeReport, error) {
	opts.WeightOnly = true
	if err := opts.check(); err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = &Context{}
	}
	ctx.ensureTypes(m)
	q := newQuantizer(ctx, m, opts, "weight-only")
	ops := map[string]bool{"Conv": true, "ConvTranspose": true, "Gemm": true, "MatMul": true}
	if opts.WeightBits == 4 {
		if err := requireOpset21(q, opts.AllowOpsetUpgrade); err != nil {
			return nil, err
		}
		ops = map[string]bool{"Gemm": true, "MatMul": true}
	} else if opsetOf(m) < 10 {
		return nil, fmt.Errorf("quantize: DequantizeLinear needs opset 10; the model imports %d", opsetOf(m))
	}
	for _, n := range chooseWeightNodes(m, opts, ops, q.report) {
		w := constOf(n.Input(1))
		if opts.WeightBits == 4 {
			if err := q.blockedWeight(n, w); err != nil {
				return nil, err
			}
			continue
		}
		qw, err := q.weight(n, 1)
		if err != nil {
			return nil, err
		}
		how := "weight-only int8, per-tensor"
		if qw.axis >= 0 {
			how = fmt.Sprintf("weight-only int8, per-channel axis %d", qw.axis)
		}
		q.report.Quantized = append(q.report.Quantized, QuantizedNode{Node: nodeLabel(n), Op: opLabel(n), How: how})
	}
	if err := q.removeUnusedConsts(); err != nil {
		return nil, err
	}
	q.report.QuantBytes = quantBytes(q)
	return q.report, nil
}

// blockedWeight stores a MatMul/Gemm weight as int4 blocks along its reduction axis.
func (q *quantizer) blockedWeight(n *ir.Node, w *ir.Tensor) error {
	if len(w.Dims) != 2 {
		q.report.Skipped = append(q.report.Skipped, SkippedNode{Node: nodeLabel(n), Op: opLabel(n), Reason: "4-bit blocks need a 2-D weight"})
		return nil
	}
	axis := 0 // MatMul [K,N], Gemm transB=0 [K,N]
	if n.OpType == "Gemm" && n.AttrInt("transB", 0) != 0 {
		axis = 1 // [N,K]
	}
	v := n.Input(1)
	vals, scales, sdims, err := quantizeBlocked(w, axis, q.opts.BlockSize)
	if err != nil {
		return fmt.Errorf("%s weight %q: %w", n.Describe(), v.Name, err)
	}
	qv := q.r.addConst(q.g, v.Name+"_quantized", intTensor("", ir.Int4, w.Dims, vals))
	scale := q.r.addConst(q.g, v.Name+"_scale", ir.FromFloat32("", sdims, scales))
	zp := q.r.addConst(q.g, v.Name+"_zero_point", intTensor("", ir.Int4, sdims, zeros(len(scales))))
	dn := q.newNode(n, "DequantizeLinear", []*ir.Value{qv, scale, zp}, []string{v.Name + "_DequantizeLinear_Output"}, v.Name+"_DequantizeLinear",
		ir.IntAttr("axis", int64(axis)), ir.IntAttr("block_size", int64(q.opts.BlockSize)))
	dn.Output(0).Type = ir.TensorTypeOf(ir.Float, w.Dims...)
	q.r.setInput(n, 1, dn.Output(0))
	q.oldConsts[v] = true
	q.report.Weights++
	q.report.Quantized = append(q.report.Quantized, QuantizedNode{Node: nodeLabel(n), Op: opLabel(n),
		How: fmt.Sprintf("weight-only int4, blocks of %d along axis %d", q.opts.BlockSize, axis)})
	return nil
}

// sameMeaningAt21 lists, per operator, the versions between 14 and 21 that only added
// element types or optional attributes whose defaults keep the old behaviour, so that a
// model's nodes mean the same after its opset import is raised across them.
var sameMeaningAt21 = map[string][]int64{
	"Cast": {19, 21}, "CastLike": {19, 21}, "Constant": {19, 21}, "ConstantOfShape": {20, 21},
	"Identity": {14, 16, 19, 21}, "Reshape": {14, 19, 21}, "Shape": {15, 19, 21}, "Size": {19, 21},
	"Flatten": {21}, "Transpose": {21}, "Squeeze": {21}, "Unsqueeze": {21},
	"QuantizeLinear": {19, 21}, "DequantizeLinear": {19, 21}, "If": {16, 19, 21}, "Loop": {16, 19, 21},
	"Scan": {16, 19, 21}, "Pad": {18, 19, 21}, "Equal": {19}, "AveragePool": {19},
	"Resize": {18, 19}, "Split": {18}, "ScatterND": {16, 18}, "ScatterElements": {16, 18},
	"Where": {16}, "Relu": {14}, "Add": {14}, "Sub": {14}, "Mul": {14}, "Div": {14},
	"BatchNormalization": {14, 15}, "LeakyRelu": {16}, "PRelu": {16}, "GridSample": {16, 20},
	"Less": {}, "LessOrEqual": {16}, "GreaterOrEqual": {16}, "Trilu": {14}, "CumSum": {14},
	"LpPool": {18}, "Mish": {18}, "Col2Im": {18}, "Gather": {}, "Softmax": {}, "Gelu": {20},
	"IsInf": {20}, "IsNaN": {20}, "ReduceMax": {20}, "ReduceMin": {20}, "Hardswish": {14},
}

// requireOpset21 raises the default-domain import to 21 (and the IR version to 10, for
// int4) when allowed and safe, or explains why not.
func requireOpset21(q *quantizer, allow bool) error {
	cur := opsetOf(q.m)
	if cur >= 21 {
		if q.m.IRVersion < 10 {
			q.m.IRVersion = 10
			q.note("IR version raised to 10 for int4 tensors")
		}
		return nil
	}
	if !allow {
		return fmt.Errorf("quantize: 4-bit weights need DequantizeLinear-21 (block_size, int4); the model imports opset %d (allow raising it with --upgrade-opset)", cur)
	}
	var blockers []string
	seen := map[string]bool{}
	for _, g := range q.m.Graphs() {
		for _, n := range g.Nodes() {
			if !ir.IsDefaultDomain(n.Domain) || seen[n.OpType] {
				continue
			}
			seen[n.OpType] = true
			ok := map[int64]bool{}
			for _, v := range sameMeaningAt21[n.OpType] {
				ok[v] = true
			}
			for _, v := range opschema.Versions("", n.OpType) {
				if v > cur && v <= 21 && !ok[v] {
					blockers = append(blockers, fmt.Sprintf("%s-%d", n.OpType, v))
				}
			}
		}
	}
	if len(blockers) > 0 {
		sort.Strings(blockers)
		return fmt.Errorf("quantize: cannot raise opset %d to 21 for 4-bit weights: these operators changed meaning in between: %s", cur, strings.Join(blockers, ", "))
	}
	q.m.SetOpset("", 21)
	if q.m.IRVersion < 10 {
		q.m.IRVersion = 10
	}
	q.note("opset import raised from %d to 21 and IR version to %d (DequantizeLinear-21 with block_size and int4)", cur, q.m.IRVersion)
	return nil
}
