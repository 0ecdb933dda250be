package prepare_test

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

// builder makes small float graphs for the rule tests.
type builder struct {
	g *ir.Graph
	r *rand.Rand
}

func newBuilder() *builder { return &builder{g: ir.NewGraph("g"), r: rand.New(rand.NewSource(1))} }

func (b *builder) input(name string, dims ...int64) *ir.Value {
	return b.g.AddInput(name, ir.TensorTypeOf(ir.Float, dims...))
}

func (b *builder) weight(name string, dims ...int64) *ir.Value {
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = b.r.Float32() - 0.5
	}
	return b.g.AddInitializer(ir.FromFloat32(name, dims, v))
}

func (b *builder) scalar(name string, v float32) *ir.Value {
	return b.g.AddInitializer(ir.FromFloat32(name, nil, []float32{v}))
}

func (b *builder) op(op string, ins []*ir.Value, out string, attrs ...*ir.Attr) *ir.Value {
	n := b.g.NewNode("", op, ins, []string{out}, attrs...)
	n.Name = out + "_node"
	b.g.Append(n)
	return n.Output(0)
}

func (b *builder) conv(x *ir.Value, name string, cin, cout int64) *ir.Value {
	w := b.weight(name+".w", cout, cin, 3, 3)
	bias := b.weight(name+".b", cout)
	return b.op("Conv", []*ir.Value{x, w, bias}, name, ir.IntsAttr("pads", 1, 1, 1, 1))
}

func (b *builder) model(outs ...*ir.Value) *ir.Model {
	b.g.Outputs = outs
	return &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: 17}}, Graph: b.g}
}

// ops lists the main graph's nodes in order: op types, private ones with their
// activation and a +Z when they add a residual, Reorders with their direction.
func ops(m *ir.Model) string {
	var s []string
	for _, n := range m.Graph.Nodes() {
		op := n.OpType
		if n.Domain == prepare.Domain {
			var extra []string
			if a := n.AttrString("activation", ""); a != "" {
				extra = append(extra, a)
			}
			if to := n.AttrString("to", ""); to != "" {
				extra = append(extra, to)
			}
			if len(n.Inputs()) > 3 && n.Input(3) != nil {
				extra = append(extra, "+Z")
			}
			if len(extra) > 0 {
				op += "(" + strings.Join(extra, ",") + ")"
			}
		}
		s = append(s, op)
	}
	return strings.Join(s, " ")
}

func TestRules(t *testing.T) {
	const in, out = "Reorder(NHWC) ", " Reorder(NCHW)"
	tests := []struct {
		name  string
		build func(b *builder) *ir.Model
		keep  []string
		want  string
	}{
		{"conv+relu", func(b *builder) *ir.Model {
			x := b.input("x", 1, 4, 6, 6)
			return b.model(b.op("Relu", []*ir.Value{b.conv(x, "c", 4, 8)}, "y"))
		}, nil, in + "NhwcConv(Relu)" + out},
		{"residual add then relu", func(b *builder) *ir.Model {
			x := b.input("x", 1, 4, 6, 6)
			c1 := b.op("Relu", []*ir.Value{b.conv(x, "c1", 4, 4)}, "r1")
			sum := b.op("Add", []*ir.Value{b.conv(c1, "c2", 4, 4), x}, "sum")
			return b.model(b.op("Relu", []*ir.Value{sum}, "y"))
		}, nil, in + "NhwcConv(Relu) NhwcConv(Relu,+Z)" + out},
		{"clip with constant bounds", func(b *builder) *ir.Model {
			x := b.input("x", 1, 3, 5, 5)
			return b.model(b.op("Clip", []*ir.Value{b.conv(x, "c", 3, 4), b.scalar("lo", 0), b.scalar("hi", 6)}, "y"))
		}, nil, in + "NhwcConv(Clip)" + out},
		{"silu", func(b *builder) *ir.Model {
			x := b.input("x", 2, 3, 5, 5)
			c := b.conv(x, "c", 3, 4)
			return b.model(b.op("Mul", []*ir.Value{c, b.op("Sigmoid", []*ir.Value{c}, "s")}, "y"))
		}, nil, in + "NhwcConv(SiLU)" + out},
		{"hardswish, hardsigmoid, leakyrelu, tanh", func(b *builder) *ir.Model {
			x := b.input("x", 1, 3, 5, 5)
			h := b.op("HardSwish", []*ir.Value{b.conv(x, "c1", 3, 3)}, "h")
			s := b.op("HardSigmoid", []*ir.Value{b.conv(h, "c2", 3, 3)}, "s", ir.FloatAttr("alpha", 0.3))
			l := b.op("LeakyRelu", []*ir.Value{b.conv(s, "c3", 3, 3)}, "l", ir.FloatAttr("alpha", 0.1))
			return b.model(b.op("Tanh", []*ir.Value{b.conv(l, "c4", 3, 3)}, "y"))
		}, nil, in + "NhwcConv(HardSwish) NhwcConv(HardSigmoid) NhwcConv(LeakyRelu) NhwcConv(Tanh)" + out},
		{"a kept intermediate is not fused away", func(b *builder) *ir.Model {
			x := b.input("x", 1, 4, 6, 6)
			return b.model(b.op("Relu", []*ir.Value{b.conv(x, "c", 4, 8)}, "y"))
		}, []string{"c"}, in + "NhwcConv Reorder(NCHW) Relu" + out},
		{"a conv output read twice keeps its activation apart", func(b *builder) *ir.Model {
			x := b.input("x", 1, 4, 6, 6)
			c := b.conv(x, "c", 4, 4)
			return b.model(b.op("Relu", []*ir.Value{c}, "y"), b.op("Neg", []*ir.Value{c}, "z"))
		}, nil, in + "NhwcConv Relu Reorder(NCHW) Neg" + out},
		{"broadcast add is not a residual", func(b *builder) *ir.Model {
			x := b.input("x", 1, 4, 6, 6)
			return b.model(b.op("Add", []*ir.Value{b.conv(x, "c", 4, 4), b.weight("bias", 4, 1, 1)}, "y"))
		}, nil, in + "NhwcConv Reorder(NCHW) Binary"},
		{"batch norm after conv folds into it, then relu and pooling stay channels-last", func(b *builder) *ir.Model {
			x := b.input("x", 2, 3, 8, 8)
			c := b.op("Conv", []*ir.Value{x, b.weight("w", 6, 3, 3, 3), b.weight("cb", 6)}, "c", ir.IntsAttr("pads", 1, 1, 1, 1))
			// Batch-norm buffers fed by Identity, as a model whose buffers are tied to its
			// parameters exports.
			mean := b.op("Identity", []*ir.Value{b.weight("mean", 6)}, "mean")
			varPlus := b.op("Abs", []*ir.Value{b.weight("var0", 6)}, "var")
			bn := b.op("BatchNormalization", []*ir.Value{c, b.weight("gamma", 6), b.weight("beta", 6), mean, varPlus}, "bn",
				ir.FloatAttr("epsilon", 1e-3))
			r := b.op("Relu", []*ir.Value{bn}, "r")
			return b.model(b.op("MaxPool", []*ir.Value{r}, "y", ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)))
		}, nil, in + "NhwcConv(Relu) NhwcMaxPool" + out},
		{"batch norm of a conv output read twice stays", func(b *builder) *ir.Model {
			x := b.input("x", 1, 3, 6, 6)
			c := b.conv(x, "c", 3, 4)
			bn := b.op("BatchNormalization", []*ir.Value{c, b.weight("gamma", 4), b.weight("beta", 4), b.weight("mean", 4),
				b.op("Abs", []*ir.Value{b.weight("var0", 4)}, "var")}, "bn")
			return b.model(bn, b.op("Neg", []*ir.Value{c}, "z"))
		}, nil, in + "NhwcConv Reorder(NCHW) BatchNormalization Neg" + out},
		{"constants fold", func(b *builder) *ir.Model {
			x := b.input("x", 1, 4, 6, 6)
			w := b.op("Neg", []*ir.Value{b.weight("w0", 4, 4, 3, 3)}, "w")
			c := b.op("Conv", []*ir.Value{x, w}, "c", ir.IntsAttr("pads", 1, 1, 1, 1))
			return b.model(b.op("Relu", []*ir.Value{c}, "y"))
		}, nil, in + "NhwcConv(Relu)" + out},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder())
			before := ir.Format(m)
			pm, err := prepare.Prepare(m, prepare.Options{Keep: tc.keep})
			if err != nil {
				t.Fatal(err)
			}
			if ir.Format(m) != before {
				t.Fatal("Prepare modified the caller's model")
			}
			if err := pm.Verify(); err != nil {
				t.Fatalf("prepared model does not verify: %v\n%s", err, ir.Format(pm))
			}
			if got := ops(pm); got != tc.want {
				t.Errorf("prepared ops %q, want %q", got, tc.want)
			}
			for i, v := range pm.Graph.Outputs {
				if v.Name != m.Graph.Outputs[i].Name {
					t.Errorf("output %d renamed %q -> %q", i, m.Graph.Outputs[i].Name, v.Name)
				}
			}
			checkSameOutputs(t, m)
		})
	}
}

// checkSameOutputs runs m prepared and as written (the reference kernels) on random inputs
// and requires the outputs to agree to float32 rounding.
func checkSameOutputs(t *testing.T, m *ir.Model) {
	t.Helper()
	r := rand.New(rand.NewSource(2))
	feeds := map[string]*runtime.Tensor{}
	for _, v := range m.Graph.Inputs {
		var shape []int64
		for _, d := range v.Type.Dims {
			shape = append(shape, d.Value)
		}
		x := kernel.New(ir.Float, shape...)
		for i := range x.Float32s() {
			x.Float32s()[i] = r.Float32()*4 - 2
		}
		feeds[v.Name] = x
	}
	for _, threads := range []int{1, 2} {
		fast, err := runtime.NewSession(m, runtime.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := runtime.NewSession(m, runtime.Options{Reference: true})
		if err != nil {
			t.Fatal(err)
		}
		got, err := fast.Run(context.Background(), feeds)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.Run(context.Background(), feeds)
		if err != nil {
			t.Fatal(err)
		}
		for name, w := range want {
			g := got[name]
			if g == nil || !slices.Equal(g.Shape, w.Shape) {
				t.Fatalf("output %s: got %v, want shape %v", name, g, w.Shape)
			}
			for i, wv := range w.Float32s() {
				gv := g.Float32s()[i]
				if math.Abs(float64(gv-wv)) > 1e-5*(1+math.Abs(float64(wv))) {
					t.Fatalf("threads %d, output %s[%d] = %v, reference %v", threads, name, i, gv, wv)
				}
			}
		}
	}
}

func ExamplePrepare() {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 1, 2, 4, 4))
	w := g.AddInitializer(ir.FromFloat32("w", []int64{2, 2, 1, 1}, []float32{1, 0, 0, 1}))
	conv := g.NewNode("", "Conv", []*ir.Value{x, w}, []string{"c"})
	g.Append(conv)
	relu := g.NewNode("", "Relu", []*ir.Value{conv.Output(0)}, []string{"y"})
	g.Append(relu)
	g.Outputs = []*ir.Value{relu.Output(0)}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 17}}, Graph: g}
	pm, err := prepare.Prepare(m, prepare.Options{})
	if err != nil {
		panic(err)
	}
	for _, n := range pm.Graph.Nodes() {
		fmt.Println(n.Domain, n.OpType, n.AttrString("activation", ""), n.Output(0).Name)
	}
	// Output:
	// whittle.runtime Reorder  x__nhwc
	// whittle.runtime NhwcConv Relu y__nhwc
	// whittle.runtime Reorder  y
}

func (b *builder) convW(x *ir.Value, name string, cin, cout, k int64, attrs ...*ir.Attr) *ir.Value {
	w := b.weight(name+".w", cout, cin, k, k)
	bias := b.weight(name+".b", cout)
	return b.op("Conv", []*ir.Value{x, w, bias}, name, attrs...)
}

func (b *builder) depthwise(x *ir.Value, name string, c, k int64, attrs ...*ir.Attr) *ir.Value {
	w := b.weight(name+".w", c, 1, k, k)
	return b.op("Conv", []*ir.Value{x, w}, name, append(attrs, ir.IntAttr("group", c))...)
}

// TestLayoutsOnNetworkShapes runs blocks shaped like those of the torchvision models
// through the preparation stage and compares them with the reference kernels: strided
// and dilated convolutions with every padding form, few-channel inputs (im2col),
// depthwise 3×3 and 5×5, pools, squeeze-and-excitation and batches of two.
func TestLayoutsOnNetworkShapes(t *testing.T) {
	pads := func(p ...int64) *ir.Attr { return ir.IntsAttr("pads", p...) }
	strides := func(s int64) *ir.Attr { return ir.IntsAttr("strides", s, s) }
	tests := []struct {
		name  string
		build func(b *builder) *ir.Model
	}{
		{"grayscale stem: 3x3 on 1 channel (im2col by rows), silu", func(b *builder) *ir.Model {
			x := b.input("x", 2, 1, 17, 30)
			c := b.convW(x, "c", 1, 20, 3, pads(1, 1, 1, 1))
			return b.model(b.op("Mul", []*ir.Value{c, b.op("Sigmoid", []*ir.Value{c}, "s")}, "y"))
		}},
		{"stem: 3x3 stride 2 on 3 channels (taps read in place), silu over two panels", func(b *builder) *ir.Model {
			x := b.input("x", 2, 3, 33, 31)
			c := b.convW(x, "c", 3, 40, 3, pads(1, 1, 1, 1), strides(2))
			return b.model(b.op("Mul", []*ir.Value{c, b.op("Sigmoid", []*ir.Value{c}, "s")}, "y"))
		}},
		{"stem: 7x7 stride 2 on 3 channels (taps read in place), maxpool", func(b *builder) *ir.Model {
			x := b.input("x", 2, 3, 23, 40)
			c := b.op("Relu", []*ir.Value{b.convW(x, "c", 3, 20, 7, pads(3, 3, 3, 3), strides(2))}, "r")
			return b.model(b.op("MaxPool", []*ir.Value{c}, "y", ir.IntsAttr("kernel_shape", 3, 3), strides(2), pads(1, 1, 1, 1)))
		}},
		{"basic block with downsample (outputs narrower than a tile)", func(b *builder) *ir.Model {
			x := b.input("x", 1, 16, 9, 9)
			c1 := b.op("Relu", []*ir.Value{b.convW(x, "c1", 16, 32, 3, pads(1, 1, 1, 1), strides(2))}, "r1")
			c2 := b.convW(c1, "c2", 32, 32, 3, pads(1, 1, 1, 1))
			down := b.convW(x, "down", 16, 32, 1, strides(2))
			sum := b.op("Add", []*ir.Value{c2, down}, "sum")
			return b.model(b.op("Relu", []*ir.Value{sum}, "y"))
		}},
		{"batch of small images: several per product (im2col by image), residual and silu", func(b *builder) *ir.Model {
			// 64 channels on 13×13: about 390 KB of receptive fields per image, so two
			// images share a product and the last product has one.
			x := b.input("x", 5, 64, 13, 13)
			c := b.convW(x, "c", 64, 40, 3, pads(1, 1, 1, 1))
			sum := b.op("Add", []*ir.Value{c, b.convW(x, "skip", 64, 40, 1)}, "sum")
			return b.model(b.op("Mul", []*ir.Value{sum, b.op("Sigmoid", []*ir.Value{sum}, "s")}, "y"))
		}},
		{"inverted residual with depthwise 3x3 and relu6", func(b *builder) *ir.Model {
			x := b.input("x", 1, 24, 10, 10)
			clip := func(v *ir.Value, name string) *ir.Value {
				return b.op("Clip", []*ir.Value{v, b.scalar(name+".lo", 0), b.scalar(name+".hi", 6)}, name)
			}
			e := clip(b.convW(x, "expand", 24, 144, 1), "e")
			d := clip(b.depthwise(e, "dw", 144, 3, pads(1, 1, 1, 1)), "d")
			p := b.convW(d, "project", 144, 24, 1)
			return b.model(b.op("Add", []*ir.Value{x, p}, "y"))
		}},
		{"depthwise 5x5 stride 2, squeeze-and-excitation, silu", func(b *builder) *ir.Model {
			x := b.input("x", 2, 40, 11, 11)
			silu := func(v *ir.Value, name string) *ir.Value {
				return b.op("Mul", []*ir.Value{v, b.op("Sigmoid", []*ir.Value{v}, name+".s")}, name)
			}
			d := silu(b.depthwise(x, "dw", 40, 5, pads(2, 2, 2, 2), strides(2)), "d")
			s := b.op("GlobalAveragePool", []*ir.Value{d}, "gap")
			s = silu(b.convW(s, "squeeze", 40, 10, 1), "sq")
			s = b.op("Sigmoid", []*ir.Value{b.convW(s, "excite", 10, 40, 1)}, "ex")
			scaled := b.op("Mul", []*ir.Value{d, s}, "scaled")
			return b.model(b.convW(scaled, "project", 40, 17, 1))
		}},
		{"dilation, asymmetric and same pads, average pool, global pool", func(b *builder) *ir.Model {
			x := b.input("x", 1, 8, 12, 33)
			c := b.convW(x, "c1", 8, 16, 3, ir.IntsAttr("dilations", 2, 2), pads(2, 1, 3, 2))
			c = b.convW(c, "c2", 16, 16, 3, ir.StringAttr("auto_pad", "SAME_UPPER"), strides(2))
			c = b.op("AveragePool", []*ir.Value{c}, "avg", ir.IntsAttr("kernel_shape", 2, 3), pads(1, 1, 0, 1),
				ir.IntAttr("count_include_pad", 1))
			c = b.op("AveragePool", []*ir.Value{c}, "avg2", ir.IntsAttr("kernel_shape", 2, 2), ir.IntAttr("ceil_mode", 1))
			return b.model(b.op("GlobalAveragePool", []*ir.Value{c}, "y"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder())
			pm, err := prepare.Prepare(m, prepare.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := pm.Verify(); err != nil {
				t.Fatalf("prepared model does not verify: %v\n%s", err, ir.Format(pm))
			}
			t.Log(ops(pm))
			if !strings.Contains(ops(pm), "NhwcConv") {
				t.Errorf("no convolution moved to channels-last: %s", ops(pm))
			}
			checkSameOutputs(t, m)
		})
	}
}

// TestFuseGemm covers the matrix-product rule: classifier heads (Gemm with bias and
// transB, MatMul followed by BatchNormalization and Relu, as the Fashion-MNIST CNN's
// head is exported) and a MatMul over a batch of rows with an Add of a bias.
func TestFuseGemm(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *builder) *ir.Model
		want  string
	}{
		{"gemm transB with bias", func(b *builder) *ir.Model {
			x := b.input("x", 3, 40)
			return b.model(b.op("Gemm", []*ir.Value{x, b.weight("w", 17, 40), b.weight("c", 17)}, "y",
				ir.IntAttr("transB", 1), ir.FloatAttr("alpha", 0.5), ir.FloatAttr("beta", 2)))
		}, "FusedGemm"},
		{"matmul, batchnorm, relu, gemm", func(b *builder) *ir.Model {
			x := b.input("x", 4, 33)
			h := b.op("MatMul", []*ir.Value{x, b.weight("w1", 33, 20)}, "h")
			scale, bias, mean := b.weight("s", 20), b.weight("bb", 20), b.weight("m", 20)
			v := b.g.AddInitializer(ir.FromFloat32("v", []int64{20}, []float32{0.5, 1, 2, 0.1, 0.3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4}))
			h = b.op("BatchNormalization", []*ir.Value{h, scale, bias, mean, v}, "bn")
			h = b.op("Relu", []*ir.Value{h}, "r")
			return b.model(b.op("Gemm", []*ir.Value{h, b.weight("w2", 20, 10), b.weight("c2", 10)}, "y"))
		}, "FusedGemm(Relu) FusedGemm"},
		{"matmul over a 3-D batch, add bias, silu", func(b *builder) *ir.Model {
			x := b.input("x", 2, 5, 24)
			h := b.op("MatMul", []*ir.Value{x, b.weight("w", 24, 48)}, "h")
			h = b.op("Add", []*ir.Value{b.weight("bias", 48), h}, "a")
			return b.model(b.op("Mul", []*ir.Value{h, b.op("Sigmoid", []*ir.Value{h}, "s")}, "y"))
		}, "FusedGemm(SiLU)"},
		{"transformer MLP: bias, exact GELU, residual", func(b *builder) *ir.Model {
			x := b.input("x", 2, 7, 16)
			h := b.op("Add", []*ir.Value{b.weight("b1", 32), b.op("MatMul", []*ir.Value{x, b.weight("w1", 16, 32)}, "h")}, "hb")
			d := b.op("Div", []*ir.Value{h, b.scalar("sqrt2", 1.4142135)}, "d")
			e := b.op("Add", []*ir.Value{b.op("Erf", []*ir.Value{d}, "erf"), b.scalar("one", 1)}, "e")
			g := b.op("Mul", []*ir.Value{b.op("Mul", []*ir.Value{h, e}, "m"), b.scalar("half", 0.5)}, "gelu")
			o := b.op("Add", []*ir.Value{b.weight("b2", 16), b.op("MatMul", []*ir.Value{g, b.weight("w2", 32, 16)}, "o")}, "ob")
			return b.model(b.op("Add", []*ir.Value{x, o}, "y"))
		}, "FusedGemm(Gelu) FusedGemm(+Z)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder())
			pm, err := prepare.Prepare(m, prepare.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := pm.Verify(); err != nil {
				t.Fatalf("prepared model does not verify: %v", err)
			}
			if got := ops(pm); got != tc.want {
				t.Errorf("prepared ops %q, want %q", got, tc.want)
			}
			checkSameOutputs(t, m)
		})
	}
}

// TestFastRows covers the row-wise kernels: LayerNormalization over the last axis with
// and without a bias, Softmax over the last axis at opsets 11 and 13, and what they leave
// to the reference kernels (another axis, the statistics outputs).
func TestFastRows(t *testing.T) {
	tests := []struct {
		name  string
		opset int64
		build func(b *builder) *ir.Model
		want  string
	}{
		{"layer norm and softmax", 17, func(b *builder) *ir.Model {
			x := b.input("x", 2, 5, 24)
			l := b.op("LayerNormalization", []*ir.Value{x, b.weight("s", 24), b.weight("b", 24)}, "ln", ir.FloatAttr("epsilon", 1e-3))
			l = b.op("LayerNormalization", []*ir.Value{l, b.weight("s2", 24)}, "ln2")
			return b.model(b.op("Softmax", []*ir.Value{l}, "y"))
		}, "fast.LayerNorm fast.LayerNorm fast.Softmax"},
		{"softmax over another axis", 13, func(b *builder) *ir.Model {
			x := b.input("x", 3, 7, 5)
			return b.model(b.op("Softmax", []*ir.Value{x}, "y", ir.IntAttr("axis", 1)))
		}, "Softmax"},
		{"short rows in blocks (the last one partial), and long rows", 17, func(b *builder) *ir.Model {
			x := b.input("x", 3, 50, 17) // 150 rows of 17: blocks of 120 rows
			short := b.op("Softmax", []*ir.Value{x}, "s")
			long := b.op("Softmax", []*ir.Value{b.input("z", 2, 3, 100)}, "l")
			return b.model(short, long)
		}, "fast.Softmax fast.Softmax"},
		{"opset 11 softmax over the last axis", 11, func(b *builder) *ir.Model {
			x := b.input("x", 4, 33)
			return b.model(b.op("Softmax", []*ir.Value{x}, "y"))
		}, "fast.Softmax"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder())
			m.OpsetImports[0].Version = tc.opset
			pm, err := prepare.Prepare(m, prepare.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range pm.Graph.Nodes() {
				if n.Domain == prepare.Domain {
					got = append(got, "fast."+n.OpType)
				} else {
					got = append(got, n.OpType)
				}
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("prepared ops %q, want %q", strings.Join(got, " "), tc.want)
			}
			checkSameOutputs(t, m)
		})
	}
}
