package graphgen

import (
	"github.com/whittle-ml/whittle/ir"
)

// CNN builds a small convolutional classifier: an input [1, C, H, W], one to four blocks
// of Conv (1×1 or 3×3, strided or not, sometimes depthwise), optional BatchNormalization,
// Relu, MaxPool and residual Add, then a head of GlobalAveragePool or Flatten with Gemm or
// MatMul + Add, ending in [1, classes]. Some blocks carry patterns the optimize pipeline
// rewrites (Identity, a transposed pair, BatchNormalization after Conv, MatMul + Add).
// Weights are in [-0.5, 0.5), inputs in [-2, 2).
func CNN(src *Source) *Case {
	g := ir.NewGraph("cnn")
	b := &builder{src: src, g: g}
	c := &Case{Model: &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: Opset}}, Graph: g},
		Inputs: map[string]*Tensor{}}
	shape := []int64{1, int64(src.Range(1, 4)), int64(src.Range(3, 10)), int64(src.Range(3, 10))}
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, shape...))
	in := &Tensor{Shape: shape, Data: make([]float32, numel(shape))}
	for i := range in.Data {
		in.Data[i] = src.Float(2)
	}
	c.Inputs["x"] = in
	cur := gval{x, shape}
	b.vals = append(b.vals, cur)
	for blocks := src.Range(1, 4); blocks > 0; blocks-- {
		cur = b.convBlock(cur)
	}
	classes := int64(src.Range(2, 5))
	var flat gval
	if src.Bool(2) {
		pooled := b.node("GlobalAveragePool", []*ir.Value{cur.v}, []int64{1, cur.shape[1], 1, 1})
		flat = gval{b.node("Flatten", []*ir.Value{pooled}, []int64{1, cur.shape[1]}), []int64{1, cur.shape[1]}}
	} else {
		n := numel(cur.shape[1:])
		flat = gval{b.node("Flatten", []*ir.Value{cur.v}, []int64{1, n}), []int64{1, n}}
	}
	k := flat.shape[1]
	var y *ir.Value
	if src.Bool(2) {
		w := b.weights([]int64{classes, k})
		bias := b.weights([]int64{classes})
		y = b.node("Gemm", []*ir.Value{flat.v, w, bias}, []int64{1, classes}, ir.IntAttr("transB", 1))
	} else {
		w := b.weights([]int64{k, classes})
		mm := b.node("MatMul", []*ir.Value{flat.v, w}, []int64{1, classes})
		y = b.node("Add", []*ir.Value{mm, b.weights([]int64{classes})}, []int64{1, classes})
	}
	g.Outputs = []*ir.Value{y}
	return c
}

func (b *builder) weights(shape []int64) *ir.Value {
	data := make([]float32, numel(shape))
	for i := range data {
		data[i] = b.src.Float(0.5)
	}
	return b.g.AddInitializer(ir.FromFloat32(b.name("w"), shape, data))
}

func (b *builder) convBlock(in gval) gval {
	src := b.src
	cin, h, w := in.shape[1], in.shape[2], in.shape[3]
	k := int64(1)
	if h >= 3 && w >= 3 && src.Bool(2) {
		k = 3
	}
	pad := int64(0)
	if k == 3 && src.Bool(2) {
		pad = 1
	}
	stride := int64(1)
	if src.Bool(4) {
		stride = 2
	}
	cout, group := int64(src.Range(1, 6)), int64(1)
	if src.Bool(4) {
		cout, group = cin, cin // depthwise
	}
	oh, ow := (h+2*pad-k)/stride+1, (w+2*pad-k)/stride+1
	attrs := []*ir.Attr{ir.IntsAttr("kernel_shape", k, k), ir.IntsAttr("strides", stride, stride),
		ir.IntsAttr("pads", pad, pad, pad, pad), ir.IntAttr("group", group)}
	wt := b.weights([]int64{cout, cin / group, k, k})
	ins := []*ir.Value{in.v, wt}
	if src.Bool(2) {
		ins = append(ins, b.weights([]int64{cout}))
	}
	shape := []int64{1, cout, oh, ow}
	cur := gval{b.node("Conv", ins, shape, attrs...), shape}
	if src.Bool(2) {
		scale, bias, mean := b.weights([]int64{cout}), b.weights([]int64{cout}), b.weights([]int64{cout})
		v := make([]float32, cout)
		for i := range v {
			v[i] = 0.25 + float32(src.Intn(8))/8
		}
		variance := b.g.AddInitializer(ir.FromFloat32(b.name("var"), []int64{cout}, v))
		cur.v = b.node("BatchNormalization", []*ir.Value{cur.v, scale, bias, mean, variance}, shape)
	}
	if src.Bool(2) {
		cur.v = b.node("Relu", []*ir.Value{cur.v}, shape)
	}
	if src.Bool(4) {
		cur.v = b.node("Identity", []*ir.Value{cur.v}, shape)
	}
	if src.Bool(5) {
		// A transposed pair that cancels out: fuse_consecutive_transposes removes it.
		t := b.node("Transpose", []*ir.Value{cur.v}, []int64{1, oh, ow, cout}, ir.IntsAttr("perm", 0, 2, 3, 1))
		cur.v = b.node("Transpose", []*ir.Value{t}, shape, ir.IntsAttr("perm", 0, 3, 1, 2))
	}
	// A residual Add with the block's input when the shapes match.
	if cout == cin && oh == h && ow == w && src.Bool(2) {
		cur.v = b.node("Add", []*ir.Value{cur.v, in.v}, shape)
	}
	if oh >= 2 && ow >= 2 && src.Bool(3) {
		pooled := []int64{1, cout, oh / 2, ow / 2}
		cur = gval{b.node("MaxPool", []*ir.Value{cur.v}, pooled, ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)), pooled}
	}
	return cur
}
