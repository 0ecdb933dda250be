package grad

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

// The gradient rules are checked against central finite differences: the loss is
// L = Σ r·y over every float output, r fixed random weights; the analytic gradient of every
// trained initializer comes from Backward, the numeric one from (L(w+h) − L(w−h))/2h
// summed in float64 around the program's own float32 forward pass.

// tin is one input of a test node: an initializer the test differentiates (kind "f",
// "pos", "distinct"), a constant float ("const", "constpos"), or an integer constant.
type tin struct {
	name  string
	shape []int64
	kind  string
	ints  []int64 // for kind "int64"
	vals  []float32
}

func f(name string, shape ...int64) tin   { return tin{name: name, shape: shape, kind: "f"} }
func pos(name string, shape ...int64) tin { return tin{name: name, shape: shape, kind: "pos"} }

// distinct values (a permutation of a spaced grid), for ops with ties or kinks: MaxPool,
// ReLU, Clip.
func distinct(name string, shape ...int64) tin {
	return tin{name: name, shape: shape, kind: "distinct"}
}
func i64(name string, vals ...int64) tin {
	return tin{name: name, shape: []int64{int64(len(vals))}, kind: "int64", ints: vals}
}
func i64s(name string, shape []int64, vals ...int64) tin {
	return tin{name: name, shape: shape, kind: "int64", ints: vals}
}
func constF(name string, shape []int64, vals ...float32) tin {
	return tin{name: name, shape: shape, kind: "const", vals: vals}
}
func boolT(name string, shape []int64, vals ...int64) tin {
	return tin{name: name, shape: shape, kind: "bool", ints: vals}
}

type gradCase struct {
	name  string
	op    string
	opset int64
	attrs []*ir.Attr
	ins   []tin
	outs  int
	// inference runs the case in Inference mode (Training otherwise).
	inference bool
	// build, when set, makes the graph instead of op/ins (multi-node cases).
	build func(g *ir.Graph, vals map[string]*ir.Value) []*ir.Value
	tol   float64
}

func testModel(t *testing.T, c gradCase, rng *rand.Rand) *ir.Model {
	t.Helper()
	g := ir.NewGraph("fd")
	vals := map[string]*ir.Value{}
	var ins []*ir.Value
	for _, in := range c.ins {
		if in.name == "" {
			ins = append(ins, nil)
			continue
		}
		var tensor *ir.Tensor
		n := int(shapeSize(in.shape))
		switch in.kind {
		case "int64":
			tensor = ir.FromInt64(in.name, in.shape, in.ints)
		case "bool":
			raw := make([]byte, len(in.ints))
			for i, v := range in.ints {
				raw[i] = byte(v)
			}
			tensor = ir.NewTensor(in.name, ir.Bool, in.shape, raw)
		case "const":
			tensor = ir.FromFloat32(in.name, in.shape, in.vals)
		default:
			data := make([]float32, n)
			switch in.kind {
			case "pos":
				for i := range data {
					data[i] = 0.5 + 1.5*rng.Float32()
				}
			case "distinct":
				perm := rng.Perm(n)
				for i := range data {
					data[i] = float32(perm[i]-n/2)*0.25 + 0.125
				}
			default:
				for i := range data {
					data[i] = 2*rng.Float32() - 1
				}
			}
			tensor = ir.FromFloat32(in.name, in.shape, data)
		}
		v := g.AddInitializer(tensor)
		vals[in.name] = v
		ins = append(ins, v)
	}
	var outs []*ir.Value
	if c.build != nil {
		outs = c.build(g, vals)
	} else {
		names := make([]string, max(c.outs, 1))
		for i := range names {
			names[i] = fmt.Sprintf("y%d", i)
		}
		n := g.NewNode("", c.op, ins, names, c.attrs...)
		n.Name = c.name
		g.Append(n)
		outs = n.Outputs()
	}
	g.Outputs = outs
	opset := c.opset
	if opset == 0 {
		opset = 17
	}
	return &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: opset}}, Graph: g}
}

func trainedKinds(c gradCase) func(name string, _ *ir.Tensor) bool {
	train := map[string]bool{}
	for _, in := range c.ins {
		switch in.kind {
		case "f", "pos", "distinct":
			train[in.name] = true
		}
	}
	return func(name string, _ *ir.Tensor) bool { return train[name] }
}

// lossOf runs the forward pass and returns Σ r·y over the float outputs.
func lossOf(t *testing.T, p *Program, mode Mode, weights map[string][]float32) float64 {
	t.Helper()
	tape, err := p.Forward(context.Background(), nil, mode, 1)
	if err != nil {
		t.Fatal(err)
	}
	var l float64
	for name, r := range weights {
		y := tape.Value(name).Float32s()
		for i, v := range y {
			l += float64(r[i]) * float64(v)
		}
	}
	return l
}

func checkGradients(t *testing.T, c gradCase) {
	rng := rand.New(rand.NewSource(int64(len(c.name)) * 7919))
	m := testModel(t, c, rng)
	p, err := Build(m, Config{Trainable: trainedKinds(c), Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	mode := Training
	if c.inference {
		mode = Inference
	}
	tape, err := p.Forward(context.Background(), nil, mode, 1)
	if err != nil {
		t.Fatal(err)
	}
	weights := map[string][]float32{}
	for _, v := range m.Graph.Outputs {
		y := tape.Value(v.Name)
		if y == nil || y.DType != ir.Float {
			continue
		}
		r := make([]float32, y.Len())
		for i := range r {
			r[i] = 2*rng.Float32() - 1
		}
		weights[v.Name] = r
	}
	if err := tape.Backward(context.Background(), weights); err != nil {
		t.Fatal(err)
	}
	analytic := map[string][]float32{}
	for _, pr := range p.Params() {
		analytic[pr.Name] = append([]float32(nil), pr.Grad...)
	}
	tol := c.tol
	if tol == 0 {
		tol = 2e-3
	}
	const h = 1e-2
	for _, pr := range p.Params() {
		num := make([]float64, len(pr.Value))
		for i := range pr.Value {
			orig := pr.Value[i]
			pr.Value[i] = orig + h
			lp := lossOf(t, p, mode, weights)
			pr.Value[i] = orig - h
			lm := lossOf(t, p, mode, weights)
			pr.Value[i] = orig
			num[i] = (lp - lm) / (2 * h)
		}
		var diff, norm float64
		for i, a := range analytic[pr.Name] {
			d := float64(a) - num[i]
			diff += d * d
			norm += num[i] * num[i]
		}
		rel := math.Sqrt(diff) / math.Max(math.Sqrt(norm), 1e-3)
		t.Logf("%s d/d%s rel %.2g", c.name, pr.Name, rel)
		if rel > tol || math.IsNaN(rel) {
			t.Errorf("%s: d/d%s relative L2 error %.3g (tolerance %.1g)\n analytic %v\n numeric  %v",
				c.name, pr.Name, rel, tol, head(analytic[pr.Name]), head64(num))
		}
	}
}

func head(v []float32) string {
	if len(v) > 8 {
		return fmt.Sprint(v[:8]) + "..."
	}
	return fmt.Sprint(v)
}

func head64(v []float64) string {
	if len(v) > 8 {
		return fmt.Sprint(v[:8]) + "..."
	}
	return fmt.Sprint(v)
}

func ia(name string, v ...int64) *ir.Attr { return ir.IntsAttr(name, v...) }

var gradCases = []gradCase{
	// Elementwise, broadcasting both ways.
	{name: "add_broadcast", op: "Add", ins: []tin{f("a", 2, 3, 4), f("b", 3, 1)}},
	{name: "sub_broadcast_left", op: "Sub", ins: []tin{f("a", 4), f("b", 2, 3, 4)}},
	{name: "mul_broadcast", op: "Mul", ins: []tin{f("a", 2, 1, 4), f("b", 3, 1)}},
	{name: "mul_same", op: "Mul", ins: []tin{f("a", 3, 4), f("b", 3, 4)}},
	{name: "div_broadcast", op: "Div", ins: []tin{f("a", 2, 3, 4), pos("b", 1, 3, 1)}},
	{name: "pow_both", op: "Pow", ins: []tin{pos("a", 2, 3), f("b", 3)}},
	{name: "pow_const_exponent", op: "Pow", ins: []tin{pos("a", 2, 3), constF("e", nil, 2)}},
	{name: "where", op: "Where", ins: []tin{boolT("c", []int64{2, 3}, 1, 0, 1, 0, 0, 1), f("x", 2, 3), f("y", 3)}},
	{name: "relu", op: "Relu", ins: []tin{distinct("x", 3, 5)}},
	{name: "leaky_relu", op: "LeakyRelu", attrs: []*ir.Attr{ir.FloatAttr("alpha", 0.1)}, ins: []tin{distinct("x", 3, 5)}},
	{name: "clip_inputs", op: "Clip", ins: []tin{distinct("x", 3, 5), constF("lo", nil, -0.6), constF("hi", nil, 0.8)}},
	{name: "clip_attrs_opset6", op: "Clip", opset: 6, attrs: []*ir.Attr{ir.FloatAttr("min", -0.6), ir.FloatAttr("max", 0.8)}, ins: []tin{distinct("x", 3, 5)}},
	{name: "sigmoid", op: "Sigmoid", ins: []tin{f("x", 3, 4)}},
	{name: "hard_sigmoid", op: "HardSigmoid", ins: []tin{distinct("x", 4, 4)}},
	{name: "hard_swish", op: "HardSwish", opset: 14, ins: []tin{distinct("x", 4, 4)}},
	{name: "tanh", op: "Tanh", ins: []tin{f("x", 3, 4)}},
	{name: "erf", op: "Erf", ins: []tin{f("x", 3, 4)}},
	{name: "gelu", op: "Gelu", opset: 20, ins: []tin{f("x", 3, 4)}},
	{name: "gelu_tanh", op: "Gelu", opset: 20, attrs: []*ir.Attr{ir.StringAttr("approximate", "tanh")}, ins: []tin{f("x", 3, 4)}},
	{name: "sqrt", op: "Sqrt", ins: []tin{pos("x", 3, 4)}},
	{name: "log", op: "Log", ins: []tin{pos("x", 5)}},
	{name: "exp", op: "Exp", ins: []tin{f("x", 5)}},
	{name: "neg", op: "Neg", ins: []tin{f("x", 5)}},
	{name: "reciprocal", op: "Reciprocal", ins: []tin{pos("x", 5)}},
	{name: "abs", op: "Abs", ins: []tin{distinct("x", 6)}},
	{name: "softplus", op: "Softplus", ins: []tin{f("x", 5)}},
	// Linear algebra.
	{name: "gemm", op: "Gemm", ins: []tin{f("a", 3, 4), f("b", 4, 5), f("c", 5)}},
	{name: "gemm_trans_alpha_beta", op: "Gemm", attrs: []*ir.Attr{ir.IntAttr("transA", 1), ir.IntAttr("transB", 1),
		ir.FloatAttr("alpha", 0.7), ir.FloatAttr("beta", 1.3)}, ins: []tin{f("a", 4, 3), f("b", 5, 4), f("c", 3, 1)}},
	{name: "gemm_transB", op: "Gemm", attrs: []*ir.Attr{ir.IntAttr("transB", 1)}, ins: []tin{f("a", 3, 4), f("b", 5, 4)}},
	{name: "matmul_2d", op: "MatMul", ins: []tin{f("a", 3, 4), f("b", 4, 2)}},
	{name: "matmul_batched_shared_b", op: "MatMul", ins: []tin{f("a", 2, 3, 4), f("b", 4, 5)}},
	{name: "matmul_broadcast_batch", op: "MatMul", ins: []tin{f("a", 2, 1, 3, 4), f("b", 3, 4, 2)}},
	{name: "matmul_vectors", op: "MatMul", ins: []tin{f("a", 4), f("b", 2, 4, 3)}},
	{name: "matmul_vector_b", op: "MatMul", ins: []tin{f("a", 2, 3, 4), f("b", 4)}},
	// Convolutions: groups, depthwise, strides, dilations, pads.
	{name: "conv_basic", op: "Conv", ins: []tin{f("x", 2, 3, 5, 5), f("w", 4, 3, 3, 3), f("b", 4)}},
	{name: "conv_pads_strides", op: "Conv", attrs: []*ir.Attr{ia("pads", 1, 0, 2, 1), ia("strides", 2, 1)},
		ins: []tin{f("x", 2, 2, 6, 5), f("w", 3, 2, 3, 2), f("b", 3)}},
	{name: "conv_dilation", op: "Conv", attrs: []*ir.Attr{ia("dilations", 2, 2), ia("pads", 1, 1, 1, 1)},
		ins: []tin{f("x", 1, 2, 6, 6), f("w", 2, 2, 2, 3)}},
	{name: "conv_groups", op: "Conv", attrs: []*ir.Attr{ir.IntAttr("group", 2), ia("pads", 1, 1, 1, 1)},
		ins: []tin{f("x", 2, 4, 4, 4), f("w", 6, 2, 3, 3), f("b", 6)}},
	{name: "conv_depthwise", op: "Conv", attrs: []*ir.Attr{ir.IntAttr("group", 3), ia("pads", 1, 1, 1, 1), ia("strides", 2, 2)},
		ins: []tin{f("x", 2, 3, 5, 5), f("w", 3, 1, 3, 3), f("b", 3)}},
	{name: "conv_pointwise", op: "Conv", ins: []tin{f("x", 2, 3, 3, 4), f("w", 5, 3, 1, 1)}},
	{name: "conv_same_upper", op: "Conv", attrs: []*ir.Attr{ir.StringAttr("auto_pad", "SAME_UPPER"), ia("strides", 2, 2)},
		ins: []tin{f("x", 1, 2, 5, 4), f("w", 2, 2, 3, 3)}},
	{name: "conv_1d", op: "Conv", attrs: []*ir.Attr{ia("pads", 2, 1), ia("strides", 2)}, ins: []tin{f("x", 2, 3, 7), f("w", 2, 3, 3), f("b", 2)}},
	{name: "conv_3d", op: "Conv", attrs: []*ir.Attr{ia("pads", 1, 0, 1, 0, 1, 0)}, ins: []tin{f("x", 1, 2, 3, 3, 3), f("w", 2, 2, 2, 2, 2)}},
	{name: "conv_transpose", op: "ConvTranspose", attrs: []*ir.Attr{ia("strides", 2, 2), ia("pads", 1, 0, 0, 1)},
		ins: []tin{f("x", 2, 3, 3, 3), f("w", 3, 2, 3, 3), f("b", 2)}},
	{name: "conv_transpose_groups_output_padding", op: "ConvTranspose", attrs: []*ir.Attr{ir.IntAttr("group", 2),
		ia("strides", 2, 2), ia("output_padding", 1, 0), ia("dilations", 1, 2)},
		ins: []tin{f("x", 1, 4, 3, 2), f("w", 4, 1, 2, 2), f("b", 2)}},
	// Pools.
	{name: "maxpool", op: "MaxPool", attrs: []*ir.Attr{ia("kernel_shape", 2, 2), ia("strides", 2, 2)}, ins: []tin{distinct("x", 2, 2, 4, 5)}},
	{name: "maxpool_pads_ceil", op: "MaxPool", opset: 12, attrs: []*ir.Attr{ia("kernel_shape", 3, 3), ia("strides", 2, 2),
		ia("pads", 1, 1, 1, 1), ir.IntAttr("ceil_mode", 1)}, ins: []tin{distinct("x", 1, 2, 6, 5)}},
	{name: "maxpool_dilated_1d", op: "MaxPool", opset: 12, attrs: []*ir.Attr{ia("kernel_shape", 2), ia("dilations", 2)}, ins: []tin{distinct("x", 1, 2, 7)}},
	{name: "avgpool", op: "AveragePool", attrs: []*ir.Attr{ia("kernel_shape", 3, 3), ia("strides", 2, 2), ia("pads", 1, 1, 1, 1)},
		ins: []tin{f("x", 2, 2, 5, 5)}},
	{name: "avgpool_count_pad", op: "AveragePool", attrs: []*ir.Attr{ia("kernel_shape", 3, 2), ia("pads", 1, 1, 1, 0),
		ir.IntAttr("count_include_pad", 1)}, ins: []tin{f("x", 1, 2, 4, 4)}},
	{name: "global_avgpool", op: "GlobalAveragePool", ins: []tin{f("x", 2, 3, 3, 4)}},
	{name: "global_maxpool", op: "GlobalMaxPool", ins: []tin{distinct("x", 2, 3, 3, 2)}},
	// Softmax family.
	{name: "softmax", op: "Softmax", attrs: []*ir.Attr{ir.IntAttr("axis", 1)}, ins: []tin{f("x", 2, 3, 4)}},
	{name: "softmax_opset11_coerced", op: "Softmax", opset: 11, attrs: []*ir.Attr{ir.IntAttr("axis", 1)}, ins: []tin{f("x", 2, 3, 4)}},
	{name: "log_softmax", op: "LogSoftmax", ins: []tin{f("x", 3, 5)}},
	// Shape ops.
	{name: "flatten", op: "Flatten", attrs: []*ir.Attr{ir.IntAttr("axis", 2)}, ins: []tin{f("x", 2, 3, 2, 2)}},
	{name: "reshape", op: "Reshape", ins: []tin{f("x", 2, 6), i64("s", 3, -1)}},
	{name: "transpose", op: "Transpose", attrs: []*ir.Attr{ia("perm", 2, 0, 1)}, ins: []tin{f("x", 2, 3, 4)}},
	{name: "concat", op: "Concat", attrs: []*ir.Attr{ir.IntAttr("axis", 1)}, ins: []tin{f("a", 2, 2, 3), f("b", 2, 1, 3), f("c", 2, 3, 3)}},
	{name: "split", op: "Split", attrs: []*ir.Attr{ir.IntAttr("axis", 1)}, outs: 2, ins: []tin{f("x", 2, 5), i64("sp", 2, 3)}},
	{name: "slice_steps", op: "Slice", ins: []tin{f("x", 4, 6), i64("st", 1, -1), i64("en", 4, 0), i64("ax", 0, 1), i64("stp", 2, -2)}},
	{name: "slice_opset9", op: "Slice", opset: 9, attrs: []*ir.Attr{ia("starts", 1), ia("ends", 100), ia("axes", 1)}, ins: []tin{f("x", 3, 4)}},
	{name: "squeeze", op: "Squeeze", ins: []tin{f("x", 2, 1, 3), i64("ax", 1)}},
	{name: "unsqueeze", op: "Unsqueeze", ins: []tin{f("x", 2, 3), i64("ax", 0, 3)}},
	{name: "expand", op: "Expand", ins: []tin{f("x", 3, 1), i64("s", 2, 3, 4)}},
	{name: "gather_embedding", op: "Gather", ins: []tin{f("emb", 5, 3), i64s("ix", []int64{2, 3}, 1, 4, 1, 0, -1, 2)}},
	{name: "gather_axis1", op: "Gather", attrs: []*ir.Attr{ir.IntAttr("axis", 1)}, ins: []tin{f("x", 2, 4, 3), i64("ix", 3, 0, 3)}},
	{name: "cast_float", op: "Cast", attrs: []*ir.Attr{ir.IntAttr("to", int64(ir.Float))}, ins: []tin{f("x", 2, 3)}},
	{name: "identity", op: "Identity", ins: []tin{f("x", 4)}},
	// Reductions.
	{name: "reduce_mean_attr", op: "ReduceMean", attrs: []*ir.Attr{ia("axes", 1)}, ins: []tin{f("x", 2, 3, 4)}},
	{name: "reduce_mean_input_opset18", op: "ReduceMean", opset: 18, attrs: []*ir.Attr{ir.IntAttr("keepdims", 0)}, ins: []tin{f("x", 2, 3, 4), i64("ax", -1, 0)}},
	{name: "reduce_sum_all", op: "ReduceSum", ins: []tin{f("x", 2, 3)}},
	{name: "reduce_sum_axes_input", op: "ReduceSum", attrs: []*ir.Attr{ir.IntAttr("keepdims", 0)}, ins: []tin{f("x", 2, 3, 2), i64("ax", 1)}},
	// Normalization.
	{name: "batchnorm_training", op: "BatchNormalization", ins: []tin{f("x", 3, 2, 2, 2), f("scale", 2), f("b", 2),
		constF("mean", []int64{2}, 0.1, -0.2), constF("var", []int64{2}, 1.5, 0.5)}},
	{name: "batchnorm_inference", op: "BatchNormalization", inference: true, ins: []tin{f("x", 3, 2, 2, 2), f("scale", 2), f("b", 2),
		constF("mean", []int64{2}, 0.1, -0.2), constF("var", []int64{2}, 1.5, 0.5)}},
	{name: "batchnorm_1d", op: "BatchNormalization", ins: []tin{f("x", 4, 3), f("scale", 3), f("b", 3),
		constF("mean", []int64{3}, 0, 0, 0), constF("var", []int64{3}, 1, 1, 1)}},
	{name: "layernorm", op: "LayerNormalization", attrs: []*ir.Attr{ir.IntAttr("axis", -1)}, ins: []tin{f("x", 2, 3, 5), f("scale", 5), f("b", 5)}},
	{name: "layernorm_two_axes", op: "LayerNormalization", attrs: []*ir.Attr{ir.IntAttr("axis", 1)}, ins: []tin{f("x", 2, 3, 4), f("scale", 3, 4)}},
	{name: "dropout_training", op: "Dropout", ins: []tin{f("x", 4, 8), constF("r", nil, 0.3)}},
	{name: "dropout_opset10_attr", op: "Dropout", opset: 10, attrs: []*ir.Attr{ir.FloatAttr("ratio", 0.5)}, ins: []tin{f("x", 4, 8)}},
	// A shape computation as exporters write it (Shape → Gather → Concat → Reshape),
	// computed once, carrying no gradient.
	{name: "shape_subgraph_reshape", ins: []tin{f("x", 2, 3, 4), i64("idx0", 0), i64("minus1", -1)},
		build: func(g *ir.Graph, v map[string]*ir.Value) []*ir.Value {
			shape := g.NewNode("", "Shape", []*ir.Value{v["x"]}, []string{"shape"})
			gather := g.NewNode("", "Gather", []*ir.Value{shape.Output(0), v["idx0"]}, []string{"batch"}, ir.IntAttr("axis", 0))
			cat := g.NewNode("", "Concat", []*ir.Value{gather.Output(0), v["minus1"]}, []string{"target"}, ir.IntAttr("axis", 0))
			reshape := g.NewNode("", "Reshape", []*ir.Value{v["x"], cat.Output(0)}, []string{"y"})
			sq := g.NewNode("", "Mul", []*ir.Value{reshape.Output(0), reshape.Output(0)}, []string{"y2"})
			for _, n := range []*ir.Node{shape, gather, cat, reshape, sq} {
				g.Append(n)
			}
			return []*ir.Value{sq.Output(0)}
		}},
	// A residual block: one value read by two nodes accumulates both gradients.
	{name: "residual_fanout", ins: []tin{f("x", 2, 2, 4, 4), f("w", 2, 2, 3, 3)},
		build: func(g *ir.Graph, v map[string]*ir.Value) []*ir.Value {
			conv := g.NewNode("", "Conv", []*ir.Value{v["x"], v["w"]}, []string{"c"}, ia("pads", 1, 1, 1, 1))
			add := g.NewNode("", "Add", []*ir.Value{conv.Output(0), v["x"]}, []string{"s"})
			tanh := g.NewNode("", "Tanh", []*ir.Value{add.Output(0)}, []string{"y"})
			for _, n := range []*ir.Node{conv, add, tanh} {
				g.Append(n)
			}
			return []*ir.Value{tanh.Output(0), add.Output(0)}
		}},
}

func TestGradientsAgainstFiniteDifferences(t *testing.T) {
	for _, c := range gradCases {
		t.Run(c.name, func(t *testing.T) { checkGradients(t, c) })
	}
}

// TestEveryRuleIsChecked fails when a rule is added without a finite-difference case.
func TestEveryRuleIsChecked(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range gradCases {
		if c.op != "" {
			seen[c.op] = true
		}
		if c.build != nil {
			m := testModel(t, c, rand.New(rand.NewSource(1)))
			for _, n := range m.Graph.Nodes() {
				seen[n.OpType] = true
			}
		}
	}
	var missing []string
	for _, op := range Ops() {
		if !seen[op] {
			missing = append(missing, op)
		}
	}
	if len(missing) > 0 {
		t.Errorf("rules without a finite-difference case: %s", strings.Join(missing, ", "))
	}
}
