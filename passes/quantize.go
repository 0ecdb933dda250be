package passes

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/whittle-ml/whittle/ir"
)

// Quantization rewrites float models into the QDQ form ONNX Runtime and TensorRT read:
// QuantizeLinear/DequantizeLinear pairs on activations, int8 weights with a
// DequantizeLinear, int32 biases with their own DequantizeLinear. The layout follows ONNX
// Runtime's QDQ quantizer (quantize_static with QuantFormat.QDQ), so that ORT's graph
// optimizer fuses each DQ -> op -> Q group into QLinearConv, QLinearMatMul, QGemm, ...
//
// Entry points: PlanQuantization lists what would be quantized and which tensors need
// calibration ranges; QuantizeStatic applies a plan given ranges; QuantizeDynamic and
// QuantizeWeights need no calibration. FitQuantizationBudget leaves the most sensitive
// layers in float until a caller-supplied score meets a budget.

// QuantizeOptions configure quantization. Start from DefaultQuantizeOptions.
type QuantizeOptions struct {
	// PerChannel quantizes weights with one scale per output channel (axis: Conv 0,
	// ConvTranspose 1, Gemm 0 when transB=1 else 1, MatMul's [K,N] weight 1).
	PerChannel bool
	// ActivationType is ir.Uint8 (asymmetric, zero point from the range) or ir.Int8
	// (symmetric, zero point 0: what TensorRT accepts).
	ActivationType ir.DataType
	// FloatBias leaves biases float instead of int32: TensorRT's layout (it quantizes
	// biases itself and rejects int32 DequantizeLinear); ORT then fuses less.
	FloatBias bool
	// ReduceRange stores weights in 7 bits ([-64, 64]) so that u8s8 products cannot
	// saturate the 16-bit intermediate of AVX2 kernels without VNNI.
	ReduceRange bool
	// OpTypes, when non-empty, limits quantization to these operators.
	OpTypes []string
	// Exclude lists node names (or node labels: first output names) and operator types
	// that stay float.
	Exclude []string
	// WeightOnly stores weights quantized with a DequantizeLinear and leaves activations
	// float (QuantizeWeights).
	WeightOnly bool
	// WeightBits is 8, or 4 for blocked int4 weights (weight-only, opset >= 21).
	WeightBits int
	// BlockSize is the block of 4-bit weights along the reduction axis.
	BlockSize int
	// AllowOpsetUpgrade lets 4-bit quantization raise the default-domain opset import to
	// 21 when every operator of the model means the same at 21.
	AllowOpsetUpgrade bool
	// Dynamic quantizes MatMul/Gemm with constant weights the transformer way:
	// DynamicQuantizeLinear on the input, MatMulInteger, and a Mul by both scales.
	Dynamic bool
}

// DefaultQuantizeOptions are static, per-channel int8 weights and uint8 activations.
func DefaultQuantizeOptions() QuantizeOptions {
	return QuantizeOptions{PerChannel: true, ActivationType: ir.Uint8, WeightBits: 8, BlockSize: 32}
}

func (o QuantizeOptions) check() error {
	if o.ActivationType != ir.Uint8 && o.ActivationType != ir.Int8 {
		return fmt.Errorf("activation type %s: want uint8 or int8", o.ActivationType)
	}
	if o.WeightBits != 8 && o.WeightBits != 4 {
		return fmt.Errorf("weight bits %d: want 8 or 4", o.WeightBits)
	}
	if o.WeightBits == 4 && !o.WeightOnly {
		return fmt.Errorf("4-bit weights are weight-only: add --weight-only")
	}
	if o.WeightBits == 4 && (o.BlockSize < 16 || o.BlockSize&(o.BlockSize-1) != 0) {
		return fmt.Errorf("block size %d: want a power of two >= 16", o.BlockSize)
	}
	if o.Dynamic && o.WeightOnly {
		return fmt.Errorf("--dynamic and --weight-only exclude each other")
	}
	return nil
}

// symmetric reports whether activations use zero point 0.
func (o QuantizeOptions) symmetric() bool { return o.ActivationType == ir.Int8 }

// opRole says how the quantizer treats an operator.
type opRole int

const (
	// roleCompute ops get their own output range: Conv, Gemm, MatMul, Add, ...
	roleCompute opRole = iota + 1
	// roleShare ops move or select values: their output reuses their input's scale and
	// zero point, so ORT can run them on the 8-bit data directly.
	roleShare
	// roleFixed ops have a known output range (Softmax, Sigmoid: [0, 1]).
	roleFixed
	// roleActivation ops (Relu, Clip) are folded into their producer's output range.
	roleActivation
)

// quantOp describes a quantizable operator: its role, which inputs carry float data to
// quantize, and which input holds weights (and bias) when constant.
type quantOp struct {
	role opRole
	// data lists the inputs quantized as activations (or as constants of the
	// activation type); -1 means every input.
	data []int
	// weight is the input quantized as int8 weights when constant (-1: none), bias the
	// input quantized as int32 (-1: none).
	weight, bias int
}

var quantOps = map[string]quantOp{
	"Conv":              {roleCompute, []int{0}, 1, 2},
	"ConvTranspose":     {roleCompute, []int{0}, 1, 2},
	"Gemm":              {roleCompute, []int{0}, 1, 2},
	"MatMul":            {roleCompute, []int{0}, 1, -1},
	"Add":               {roleCompute, []int{0, 1}, -1, -1},
	"Mul":               {roleCompute, []int{0, 1}, -1, -1},
	"Concat":            {roleCompute, []int{-1}, -1, -1},
	"AveragePool":       {roleCompute, []int{0}, -1, -1},
	"GlobalAveragePool": {roleCompute, []int{0}, -1, -1},
	"MaxPool":           {roleShare, []int{0}, -1, -1},
	"Reshape":           {roleShare, []int{0}, -1, -1},
	"Transpose":         {roleShare, []int{0}, -1, -1},
	"Flatten":           {roleShare, []int{0}, -1, -1},
	"Squeeze":           {roleShare, []int{0}, -1, -1},
	"Unsqueeze":         {roleShare, []int{0}, -1, -1},
	"Resize":            {roleShare, []int{0}, -1, -1},
	"Gather":            {roleShare, []int{0}, -1, -1},
	"Softmax":           {roleFixed, []int{0}, -1, -1},
	"Sigmoid":           {roleFixed, []int{0}, -1, -1},
	"Relu":              {roleActivation, []int{0}, -1, -1},
	"Clip":              {roleActivation, []int{0}, -1, -1},
}

// QuantizableOps lists the operators static quantization handles, sorted.
func QuantizableOps() []string {
	out := make([]string, 0, len(quantOps))
	for op := range quantOps {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// SkippedNode is a node left float, and why.
type SkippedNode struct {
	Node   string `json:"node"`
	Op     string `json:"op"`
	Reason string `json:"reason"`
}

// QuantizedNode is a node that now runs on quantized inputs.
type QuantizedNode struct {
	Node string `json:"node"`
	Op   string `json:"op"`
	// How is "static", "dynamic" or "weight-only", plus details ("per-channel axis 0").
	How string `json:"how"`
}

// QuantizeReport says what a quantization did.
type QuantizeReport struct {
	Mode      string          `json:"mode"`
	Quantized []QuantizedNode `json:"quantized"`
	Skipped   []SkippedNode   `json:"skipped,omitempty"`
	// Folded lists Relu/Clip nodes whose range the preceding op's output Q took over
	// (removed with asymmetric activations, kept with symmetric ones).
	Folded []string `json:"folded,omitempty"`
	// QDQPairs counts activation QuantizeLinear/DequantizeLinear pairs inserted.
	QDQPairs int `json:"qdq_pairs"`
	// Weights counts weight (and bias) tensors stored quantized.
	Weights int `json:"weights"`
	// FloatBytes and QuantBytes are the sizes of the weights before and after.
	FloatBytes int64 `json:"float_bytes"`
	QuantBytes int64 `json:"quant_bytes"`
	// Notes record decisions worth knowing (a per-channel request served per tensor, an
	// opset upgrade, ...).
	Notes []string `json:"notes,omitempty"`
}

// SkipSummary renders Skipped grouped by reason, one line per reason with the op counts
// and up to five node names.
func (r *QuantizeReport) SkipSummary() []string {
	type group struct {
		ops   map[string]int
		nodes []string
	}
	groups := map[string]*group{}
	var reasons []string
	for _, s := range r.Skipped {
		g := groups[s.Reason]
		if g == nil {
			g = &group{ops: map[string]int{}}
			groups[s.Reason] = g
			reasons = append(reasons, s.Reason)
		}
		g.ops[s.Op]++
		g.nodes = append(g.nodes, s.Node)
	}
	var out []string
	for _, reason := range reasons {
		g := groups[reason]
		var ops []string
		for op, n := range g.ops {
			ops = append(ops, fmt.Sprintf("%s×%d", op, n))
		}
		sort.Strings(ops)
		names := g.nodes
		more := ""
		if len(names) > 5 {
			more = fmt.Sprintf(" (+%d more)", len(names)-5)
			names = names[:5]
		}
		out = append(out, fmt.Sprintf("%s: %s — %s%s", reason, strings.Join(ops, " "), strings.Join(names, ", "), more))
	}
	return out
}

// QuantPlan is the outcome of PlanQuantization: which nodes would be quantized and which
// activation tensors need a calibration range.
type QuantPlan struct {
	opts QuantizeOptions
	// nodes maps every node chosen to its operator description.
	nodes map[*ir.Node]quantOp
	order []*ir.Node
	// folded maps a compute node to the Relu/Clip whose range its output takes.
	folded  map[*ir.Node]*ir.Node
	skipped []SkippedNode
	tensors []string
}

// Nodes lists the chosen nodes in graph order.
func (p *QuantPlan) Nodes() []*ir.Node { return append([]*ir.Node(nil), p.order...) }

// Skipped lists the nodes that stay float, and why.
func (p *QuantPlan) Skipped() []SkippedNode { return append([]SkippedNode(nil), p.skipped...) }

// CalibrationTensors lists the activation tensors whose ranges static quantization needs,
// in graph order: what a Calibrator must observe.
func (p *QuantPlan) CalibrationTensors() []string { return append([]string(nil), p.tensors...) }

// SensitivityCandidates lists the chosen nodes whose quantization adds error of its own
// (compute and fixed-range ops: those with weights or their own output range); the
// shape ops that share their input's parameters are left out.
func (p *QuantPlan) SensitivityCandidates() []string {
	var out []string
	for _, n := range p.order {
		if r := p.nodes[n].role; r == roleCompute || r == roleFixed {
			out = append(out, nodeLabel(n))
		}
	}
	return out
}

// matches reports whether n is named by one of list: its name, its label or its op.
func matches(n *ir.Node, list []string) bool {
	for _, s := range list {
		if s == n.Name || s == nodeLabel(n) || s == n.OpType {
			return true
		}
	}
	return false
}

// isFloat32 reports whether v is known to be a float32 tensor.
func isFloat32(v *ir.Value) bool { return v != nil && elemOf(v) == ir.Float }

// PlanQuantization decides, for static quantization of m's main graph, which nodes are
// quantized and which stay float (with a reason for each), and which tensors need
// calibration ranges. It runs shape inference (which only refines value types) but does
// not otherwise change m.
func PlanQuantization(m *ir.Model, opts QuantizeOptions) (*QuantPlan, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if m == nil || m.Graph == nil {
		return nil, fmt.Errorf("quantize: model has no graph")
	}
	if v := opsetOf(m); v < 10 {
		return nil, fmt.Errorf("quantize: the model imports opset %d; QuantizeLinear/DequantizeLinear need opset 10 or later", v)
	}
	(&Context{}).ensureTypes(m)
	p := &QuantPlan{opts: opts, nodes: map[*ir.Node]quantOp{}, folded: map[*ir.Node]*ir.Node{}}
	skip := func(n *ir.Node, reason string) {
		p.skipped = append(p.skipped, SkippedNode{Node: nodeLabel(n), Op: opLabel(n), Reason: reason})
	}
	allowed := map[string]bool{}
	for _, op := range opts.OpTypes {
		allowed[op] = true
	}
	activations := map[*ir.Node]bool{}
	shares := map[*ir.Node]quantOp{}
	for _, n := range m.Graph.Nodes() {
		if hasSubgraphs(n) {
			skip(n, "holds subgraphs (their nodes stay float)")
			continue
		}
		q, ok := quantOps[n.OpType]
		switch {
		case !ir.IsDefaultDomain(n.Domain) || !ok:
			if n.OpType != "Constant" {
				skip(n, "operator not quantized")
			}
			continue
		case matches(n, opts.Exclude):
			skip(n, "excluded")
			continue
		case len(allowed) > 0 && !allowed[n.OpType] && q.role != roleActivation:
			skip(n, "not in --op-types")
			continue
		}
		if reason := unquantizable(n, q); reason != "" {
			skip(n, reason)
			continue
		}
		switch q.role {
		case roleActivation:
			activations[n] = true // decided below, once producers are known
			continue
		case roleShare:
			shares[n] = q // decided below, once their inputs are known
			continue
		}
		p.nodes[n] = q
		p.order = append(p.order, n)
	}
	// Relu/Clip after a chosen op: the op's output Q takes the activation's range.
	for _, n := range m.Graph.Nodes() {
		if !activations[n] {
			continue
		}
		in := n.Input(0)
		prod := in.Producer()
		_, prodChosen := p.nodes[prod]
		_, _, only := onlyUse(in)
		switch {
		case prod == nil || !prodChosen || p.nodes[prod].role != roleCompute:
			skip(n, "input is not the output of a quantized op")
		case !only:
			skip(n, "input is read by other nodes too")
		case n.Output(0).IsGraphOutput():
			skip(n, "output is a graph output")
		case matches(n, opts.Exclude):
			skip(n, "excluded")
		case n.OpType == "Clip" && !clipAdmitsZero(n):
			skip(n, "Clip bounds exclude zero")
		default:
			p.folded[prod] = n
			if opts.symmetric() {
				// A symmetric range cannot drop negatives, so the activation stays and
				// shares its input's parameters.
				p.nodes[n] = quantOp{role: roleShare, data: []int{0}, weight: -1, bias: -1}
				p.order = append(p.order, n)
			}
		}
	}
	// Shape ops follow their input, as in ORT (ForceQuantizeNoInputCheck off): one is
	// quantized only when its input is quantized anyway — written or read by a chosen op,
	// or a constant (an embedding table) — so leaving a layer float does not leave
	// Q/DQ pairs around the reshapes after it.
	quantized := map[*ir.Value]bool{}
	for _, n := range p.order {
		for _, i := range dataInputs(n, p.nodes[n]) {
			quantized[n.Input(i)] = true
		}
		quantized[n.Output(0)] = true
		if act := p.folded[n]; act != nil {
			quantized[act.Output(0)] = true
		}
	}
	for _, n := range m.Graph.Nodes() {
		q, ok := shares[n]
		if !ok {
			continue
		}
		if in := n.Input(0); !quantized[in] && constOf(in) == nil {
			skip(n, "input is not quantized (shape ops follow their input)")
			continue
		}
		p.nodes[n] = q
		p.order = append(p.order, n)
		quantized[n.Output(0)] = true
	}
	sortByGraphOrder(m.Graph, p.order)
	p.tensors = p.rangeTensors(m)
	return p, nil
}

// unquantizable returns why n cannot be quantized as q, or "".
func unquantizable(n *ir.Node, q quantOp) string {
	out := n.Output(0)
	if out == nil {
		return "has no output"
	}
	if !isFloat32(out) {
		return "output is not float32 (" + elemOf(out).String() + ")"
	}
	for _, i := range dataInputs(n, q) {
		if !isFloat32(n.Input(i)) {
			return fmt.Sprintf("input %d is not float32", i)
		}
	}
	for i, v := range n.Outputs() {
		if i > 0 && v != nil && (len(v.Uses()) > 0 || v.IsGraphOutput()) {
			return fmt.Sprintf("output %d (%s) is used", i, v.Name)
		}
	}
	switch n.OpType {
	case "Conv", "ConvTranspose":
		if constOf(n.Input(1)) == nil {
			return "weights are not constant"
		}
		if b := n.Input(2); b != nil && constOf(b) == nil {
			return "bias is not constant"
		}
	case "Gemm":
		if n.AttrInt("transA", 0) != 0 {
			return "transA=1 is not quantized"
		}
	case "Clip":
		if n.Attr("min") == nil && n.Attr("max") == nil && len(n.Inputs()) > 1 {
			for _, v := range n.Inputs()[1:] {
				if v != nil && constOf(v) == nil {
					return "min/max are not constant"
				}
			}
		}
	case "Gather":
		if constOf(n.Input(0)) == nil && !isFloat32(n.Input(0)) {
			return "data is not float32"
		}
	}
	return ""
}

// dataInputs returns the indices of n's inputs quantized as activations.
func dataInputs(n *ir.Node, q quantOp) []int {
	if len(q.data) == 1 && q.data[0] == -1 {
		out := make([]int, 0, len(n.Inputs()))
		for i, v := range n.Inputs() {
			if v != nil {
				out = append(out, i)
			}
		}
		return out
	}
	var out []int
	for _, i := range q.data {
		if n.Input(i) != nil {
			out = append(out, i)
		}
	}
	// An activation in the weight slot (MatMul of two activations, Gemm with a computed
	// B) is quantized like input 0.
	if q.weight >= 0 && n.Input(q.weight) != nil && constOf(n.Input(q.weight)) == nil {
		out = append(out, q.weight)
	}
	return out
}

// rangeTensors lists the non-constant tensors next to chosen nodes that need a range: every
// data input and every output of a compute op, and the output of each folded activation.
func (p *QuantPlan) rangeTensors(m *ir.Model) []string {
	seen := map[string]bool{}
	var out []string
	add := func(v *ir.Value) {
		if v == nil || constOf(v) != nil || seen[v.Name] {
			return
		}
		seen[v.Name] = true
		out = append(out, v.Name)
	}
	for _, n := range m.Graph.Nodes() {
		q, ok := p.nodes[n]
		if !ok {
			continue
		}
		for _, i := range dataInputs(n, q) {
			add(n.Input(i))
		}
		if q.role == roleCompute {
			add(n.Output(0))
		}
		if act := p.folded[n]; act != nil {
			add(act.Output(0))
		}
	}
	return out
}

func sortByGraphOrder(g *ir.Graph, nodes []*ir.Node) {
	pos := map[*ir.Node]int{}
	for i, n := range g.Nodes() {
		pos[n] = i
	}
	sort.SliceStable(nodes, func(i, j int) bool { return pos[nodes[i]] < pos[nodes[j]] })
}

// clipBounds returns a Clip's constant bounds (attributes before opset 11, inputs after);
// an absent bound is infinite.
func clipBounds(n *ir.Node) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(-1), math.Inf(1)
	if a := n.Attr("min"); a != nil {
		lo = float64(a.Float)
	}
	if a := n.Attr("max"); a != nil {
		hi = float64(a.Float)
	}
	for i, dst := range []*float64{&lo, &hi} {
		v := n.Input(i + 1)
		if v == nil {
			continue
		}
		t := constOf(v)
		if t == nil {
			return 0, 0, false
		}
		xs, err := t.Float64s()
		if err != nil || len(xs) != 1 {
			return 0, 0, false
		}
		*dst = xs[0]
	}
	return lo, hi, true
}

// clipAdmitsZero reports whether a Clip's bounds are constant and contain 0, so that a
// quantization range (which always contains 0) clipped to the Clip's calibrated output
// reproduces it.
func clipAdmitsZero(n *ir.Node) bool {
	lo, hi, ok := clipBounds(n)
	return ok && lo <= 0 && hi >= 0
}

// PrepareForQuantization makes lossless rewrites that quantize better, in place: a MatMul
// of a 2-D activation by a constant [K,N] weight whose only reader adds a constant [N]
// bias becomes one Gemm, so that the bias is stored int32 with the product's scale
// instead of the MatMul's output being quantized alone (a BatchNormalization folded
// after a Linear leaves exactly this, and fuse_matmul_add_into_gemm needs a static batch
// dimension to fire). QuantizeStatic calls it; calibrating the prepared model saves
// observing the tensors it removes.
func PrepareForQuantization(ctx *Context, m *ir.Model) (bool, error) {
	if ctx == nil {
		ctx = &Context{}
	}
	if opsetOf(m) < 7 {
		return false, nil
	}
	ctx.ensureTypes(m)
	r := newRewriter(ctx, m)
	g := m.Graph
	for _, mm := range g.Nodes() {
		if !isOp(mm, "MatMul") || rankOf(mm.Input(0)) != 2 || elemOf(mm.Input(0)) != ir.Float {
			continue
		}
		w := constOf(mm.Input(1))
		if w == nil || w.DataType != ir.Float || len(w.Dims) != 2 {
			continue
		}
		add, idx, ok := onlyUse(mm.Output(0))
		if !ok || !isOp(add, "Add") || len(add.Inputs()) != 2 {
			continue
		}
		bias := add.Input(1 - idx)
		bt := constOf(bias)
		if bt == nil || bt.DataType != ir.Float {
			continue
		}
		if n := w.Dims[1]; !(len(bt.Dims) == 1 && bt.Dims[0] == n) && !(len(bt.Dims) == 2 && bt.Dims[0] == 1 && bt.Dims[1] == n) {
			continue
		}
		if len(bt.Dims) == 2 {
			flat := bt.Clone()
			flat.Dims = []int64{bt.Dims[1]}
			bias = r.addConst(g, bias.Name+"_flat", flat)
		}
		gemm := r.newNode(g, add, "", "Gemm", []*ir.Value{mm.Input(0), mm.Input(1), bias}, []string{nodeLabel(add) + "_gemm"})
		gemm.Name = ir.NodeNames(g).Fresh(nodeLabel(mm) + "_gemm")
		if t := add.Output(0).Type; t != nil {
			gemm.Output(0).Type = t.Clone()
		}
		if !r.replaceValue(add.Output(0), gemm.Output(0)) {
			continue
		}
		if err := r.removeNode(add); err != nil {
			return r.changed, err
		}
		if err := r.removeNode(mm); err != nil {
			return r.changed, err
		}
	}
	return r.changed, nil
}
