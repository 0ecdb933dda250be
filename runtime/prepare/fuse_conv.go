package prepare

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
)

// Names of the private operators the float rules create. Their kernels are in
// runtime/ops/fused; attributes are documented there.
const (
	// OpFusedConv is Conv followed by an optional residual Add (input 3, Z, same shape as
	// the output) and an optional activation (attributes activation, activation_params):
	// Y = act(Conv(X, W, B) + Z).
	OpFusedConv = "FusedConv"
	// OpNhwcConv is FusedConv on channels-last tensors: X is [N, H, W, C], Z and Y are
	// [N, OH, OW, M]; W and B are Conv's (constants, [M, C/group, kH, kW] and [M]). It
	// handles group 1 and depthwise convolutions (group = C = M) in two spatial axes.
	OpNhwcConv = "NhwcConv"
	// OpReorder transposes a 4-D tensor between layouts: attribute to = "NHWC" takes
	// [N, C, H, W] to [N, H, W, C], to = "NCHW" the reverse.
	OpReorder = "Reorder"
	// OpNhwcMaxPool and OpNhwcAveragePool are MaxPool (without the indices output) and
	// AveragePool on [N, H, W, C] tensors, with the ONNX attributes.
	OpNhwcMaxPool     = "NhwcMaxPool"
	OpNhwcAveragePool = "NhwcAveragePool"
	// OpNhwcGlobalAveragePool averages an [N, H, W, C] tensor over H and W into
	// [N, C, 1, 1], which has the same memory as [N, 1, 1, C]: its output is the
	// original NCHW value.
	OpNhwcGlobalAveragePool = "NhwcGlobalAveragePool"
)

// Activations the fused kernels apply in their epilogue, with the parameters
// (activation_params) each takes.
const (
	ActRelu        = "Relu"
	ActLeakyRelu   = "LeakyRelu"   // alpha
	ActClip        = "Clip"        // min, max
	ActHardSigmoid = "HardSigmoid" // alpha, beta
	ActHardSwish   = "HardSwish"
	ActSigmoid     = "Sigmoid"
	ActSiLU        = "SiLU" // x·sigmoid(x), from Sigmoid then Mul
	ActTanh        = "Tanh"
	ActGelu        = "Gelu" // x/2·(1 + erf(x/√2)), from Div, Erf, Add, Mul, Mul
)

// fuseConvAdd folds an Add of a Conv's output and another tensor of the same shape (a
// residual connection) into the Conv, before any activation.
var fuseConvAdd = Rule{Name: "fuse_conv_add", Apply: applyFuseConvAdd}

// fuseConvActivation folds an activation that reads only a Conv's output into the Conv.
var fuseConvActivation = Rule{Name: "fuse_conv_activation", Apply: applyFuseConvActivation}

// convLike reports whether n is a Conv or a FusedConv that has no activation yet, and
// whether it already has a residual input.
func convLike(n *ir.Node) (ok, hasResidual bool) {
	if !isFloatTensor(n.Output(0)) {
		return false, false
	}
	switch {
	case isOp(n, "Conv"):
		return true, false
	case n.Domain == Domain && n.OpType == OpFusedConv:
		if n.AttrString("activation", "") != "" {
			return false, false
		}
		return true, len(n.Inputs()) > 3 && n.Input(3) != nil
	}
	return false, false
}

// asFused returns a FusedConv node equivalent to conv (a Conv or a FusedConv), with
// inputs X, W, B and Z (nil entries are omitted), for replace to put in its place.
func (c *Context) asFused(g *ir.Graph, conv, last *ir.Node, z *ir.Value, act string, params []float32) *ir.Node {
	in := conv.Inputs()
	inputs := []*ir.Value{in[0], in[1], nil, nil}
	if len(in) > 2 {
		inputs[2] = in[2]
	}
	if len(in) > 3 && in[3] != nil {
		inputs[3] = in[3]
	}
	if z != nil {
		inputs[3] = z
	}
	for len(inputs) > 2 && inputs[len(inputs)-1] == nil {
		inputs = inputs[:len(inputs)-1]
	}
	var attrs []*ir.Attr
	for _, a := range conv.Attrs {
		if a.Name != "activation" && a.Name != "activation_params" {
			attrs = append(attrs, a)
		}
	}
	if act != "" {
		attrs = append(attrs, ir.StringAttr("activation", act))
		if len(params) > 0 {
			attrs = append(attrs, ir.FloatsAttr("activation_params", params...))
		}
	}
	n := g.NewNode(Domain, OpFusedConv, inputs, c.tmpNames(last), attrs...)
	n.Name = conv.Name
	return n
}

func applyFuseConvAdd(c *Context, g *ir.Graph) (bool, error) {
	changed := false
	for _, conv := range g.Nodes() {
		ok, hasResidual := convLike(conv)
		if !ok || hasResidual {
			continue
		}
		y := conv.Output(0)
		add := c.soleUser(y)
		if !isOp(add, "Add") || len(add.Inputs()) != 2 {
			continue
		}
		z := add.Input(0)
		if z == y {
			z = add.Input(1)
		}
		if z == nil || z == y || !sameStaticShape(y, z) || !sameStaticShape(y, add.Output(0)) {
			continue
		}
		fused := c.asFused(g, conv, add, z, "", nil)
		if err := replace(g, []*ir.Node{conv, add}, add, fused); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

func applyFuseConvActivation(c *Context, g *ir.Graph) (bool, error) {
	changed := false
	for _, conv := range g.Nodes() {
		if ok, _ := convLike(conv); !ok {
			continue
		}
		act, params, nodes, last := c.matchActivation(conv.Output(0))
		if act == "" {
			continue
		}
		fused := c.asFused(g, conv, last, nil, act, params)
		if err := replace(g, append([]*ir.Node{conv}, nodes...), last, fused); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

// matchActivation recognises an activation applied to y and read by nothing else: it
// returns the activation's name and parameters, the nodes that compute it and the one
// whose output is the activated value.
func (c *Context) matchActivation(y *ir.Value) (act string, params []float32, nodes []*ir.Node, last *ir.Node) {
	if y == nil || c.Kept(y) {
		return "", nil, nil, nil
	}
	uses := y.Uses()
	if nodes, last := c.matchGelu(y); last != nil {
		return ActGelu, nil, nodes, last
	}
	// x·sigmoid(x): y feeds a Sigmoid and the Mul of y with the Sigmoid's output.
	if len(uses) == 2 {
		sig, mul := uses[0].Node, uses[1].Node
		if isOp(mul, "Sigmoid") {
			sig, mul = mul, sig
		}
		if isOp(sig, "Sigmoid") && isOp(mul, "Mul") && c.soleUser(sig.Output(0)) == mul {
			a, b := mul.Input(0), mul.Input(1)
			if (a == y && b == sig.Output(0)) || (b == y && a == sig.Output(0)) {
				return ActSiLU, nil, []*ir.Node{sig, mul}, mul
			}
		}
		return "", nil, nil, nil
	}
	n := c.soleUser(y)
	if n == nil || !isDefault(n) || n.Input(0) != y {
		return "", nil, nil, nil
	}
	switch n.OpType {
	case "Relu", "Sigmoid", "Tanh", "HardSwish":
		return n.OpType, nil, []*ir.Node{n}, n
	case "LeakyRelu":
		return ActLeakyRelu, []float32{n.AttrFloat("alpha", 0.01)}, []*ir.Node{n}, n
	case "HardSigmoid":
		return ActHardSigmoid, []float32{n.AttrFloat("alpha", 0.2), n.AttrFloat("beta", 0.5)}, []*ir.Node{n}, n
	case "Clip":
		lo, hi, ok := clipBounds(n)
		if !ok {
			return "", nil, nil, nil
		}
		return ActClip, []float32{lo, hi}, []*ir.Node{n}, n
	}
	return "", nil, nil, nil
}

// clipBounds returns a Clip's bounds when they are attributes (opset < 11) or constant
// scalar inputs; absent bounds are ±MaxFloat32.
func clipBounds(n *ir.Node) (lo, hi float32, ok bool) {
	lo, hi = -maxFloat32, maxFloat32
	if a := n.Attr("min"); a != nil {
		lo = a.Float
	}
	if a := n.Attr("max"); a != nil {
		hi = a.Float
	}
	for i, dst := range []*float32{&lo, &hi} {
		v := n.Input(i + 1)
		if v == nil {
			continue
		}
		f, ok := constScalar(v)
		if !ok {
			return 0, 0, false
		}
		*dst = f
	}
	return lo, hi, true
}

const maxFloat32 = 3.40282346638528859811704183484516925440e+38

// constScalar returns the value of a one-element float initializer.
func constScalar(v *ir.Value) (float32, bool) {
	if v.Const == nil || v.Const.DataType != ir.Float {
		return 0, false
	}
	f, err := v.Const.Float32s()
	if err != nil || len(f) != 1 {
		return 0, false
	}
	return f[0], true
}

// sameStaticShape reports whether a and b are tensors of the same element type and the same
// fully known shape.
func sameStaticShape(a, b *ir.Value) bool {
	if a == nil || b == nil || a.Type == nil || b.Type == nil {
		return false
	}
	ta, tb := a.Type, b.Type
	if ta.Kind != ir.TensorKind || tb.Kind != ir.TensorKind || !ta.HasShape || !tb.HasShape ||
		ta.Elem != tb.Elem || len(ta.Dims) != len(tb.Dims) {
		return false
	}
	for i := range ta.Dims {
		da, db := ta.Dims[i], tb.Dims[i]
		if !da.IsKnown() || !db.IsKnown() || da.Value != db.Value {
			if da.Param == "" || da.Param != db.Param {
				return false
			}
		}
	}
	return true
}

// isFloatTensor reports whether v is known to be a float32 tensor: the fused kernels
// compute in float32 only, so other element types keep the reference kernels.
func isFloatTensor(v *ir.Value) bool {
	return v != nil && v.Type != nil && v.Type.Kind == ir.TensorKind && v.Type.Elem == ir.Float
}

// matchGelu recognises the exact GELU as PyTorch exports it before opset 20:
// Mul(Mul(y, Add(Erf(Div(y, √2)), 1)), 0.5), with y read only by the Div and the first Mul.
func (c *Context) matchGelu(y *ir.Value) (nodes []*ir.Node, last *ir.Node) {
	uses := y.Uses()
	if len(uses) != 2 {
		return nil, nil
	}
	div, mul := uses[0].Node, uses[1].Node
	if !isOp(div, "Div") {
		div, mul = mul, div
	}
	if !isOp(div, "Div") || div.Input(0) != y || !isOp(mul, "Mul") {
		return nil, nil
	}
	if v, ok := constScalar(div.Input(1)); !ok || math.Abs(float64(v)-math.Sqrt2) > 1e-4 {
		return nil, nil
	}
	erf := c.soleUser(div.Output(0))
	if !isOp(erf, "Erf") {
		return nil, nil
	}
	add := c.soleUser(erf.Output(0))
	if !isOp(add, "Add") || len(add.Inputs()) != 2 {
		return nil, nil
	}
	one := add.Input(1)
	if one == erf.Output(0) {
		one = add.Input(0)
	}
	if v, ok := constScalar(one); !ok || v != 1 {
		return nil, nil
	}
	if c.soleUser(add.Output(0)) != mul || !((mul.Input(0) == y && mul.Input(1) == add.Output(0)) ||
		(mul.Input(1) == y && mul.Input(0) == add.Output(0))) {
		return nil, nil
	}
	half := c.soleUser(mul.Output(0))
	if !isOp(half, "Mul") {
		return nil, nil
	}
	h := half.Input(1)
	if h == mul.Output(0) {
		h = half.Input(0)
	}
	if v, ok := constScalar(h); !ok || v != 0.5 {
		return nil, nil
	}
	return []*ir.Node{div, erf, add, mul, half}, half
}
