package exportlayout

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// paddleOpset is the opset Paddle2ONNX exports at by default.
const paddleOpset = 9

// opset9Drops lists, per op, attributes that later opsets added and that may be dropped
// when they hold the value opset 9's schema implies; other attributes must not appear.
var opset9Drops = map[string]map[string]func(*ir.Attr) bool{
	"MaxPool": {
		"ceil_mode": func(a *ir.Attr) bool { return a.Int == 0 },
		"dilations": func(a *ir.Attr) bool {
			for _, d := range a.Ints {
				if d != 1 {
					return false
				}
			}
			return true
		},
	},
}

// opset9Same lists ops whose meaning is the same at opset 9 and 13 for float tensors (later
// versions only added types, or optional inputs a PyTorch export supplies).
var opset9Same = map[string]bool{
	"Conv": true, "Relu": true, "MaxPool": true, "AveragePool": true, "GlobalAveragePool": true,
	"Add": true, "Sub": true, "Mul": true, "Div": true, "BatchNormalization": true, "Flatten": true,
	"Gemm": true, "MatMul": true, "Sigmoid": true, "Tanh": true, "Softmax": false,
}

// Paddle2ONNX returns a copy of m in Paddle2ONNX's layout (see the package doc). It fails
// for operators whose meaning changed between opset 9 and m's opset.
func Paddle2ONNX(m *ir.Model) (*ir.Model, error) {
	c := m.Clone()
	g := c.Graph
	for _, n := range g.Nodes() {
		if !ir.IsDefaultDomain(n.Domain) || !opset9Same[n.OpType] {
			return nil, fmt.Errorf("paddle2onnx layout: %s has no opset-%d form here", n.Describe(), paddleOpset)
		}
		if n.OpType == "Gemm" && n.Input(2) == nil {
			return nil, fmt.Errorf("paddle2onnx layout: %s: Gemm-9 needs C", n.Describe())
		}
		for _, a := range append([]*ir.Attr(nil), n.Attrs...) {
			if ok, listed := opset9Drops[n.OpType][a.Name]; listed {
				if !ok(a) {
					return nil, fmt.Errorf("paddle2onnx layout: %s: attribute %s has no opset-%d form", n.Describe(), a.Name, paddleOpset)
				}
				n.DeleteAttr(a.Name)
			}
		}
	}
	// Weights move into Constant nodes, placed first, with the initializers' names.
	first := g.Nodes()
	for _, v := range append([]*ir.Value(nil), g.Initializers...) {
		if v.IsGraphInput() || v.Const == nil {
			continue
		}
		t := v.Const.Clone()
		name := v.Name
		v.Name = name + ".initializer"
		k := g.NewNode("", "Constant", nil, []string{name}, ir.TensorAttr("value", t))
		k.Name = name + ".constant"
		k.Output(0).Type = ir.TensorTypeOf(t.DataType, t.Dims...)
		v.ReplaceAllUsesWith(k.Output(0))
		if err := g.RemoveInitializer(v); err != nil {
			return nil, err
		}
		if len(first) > 0 {
			g.InsertBefore(first[0], k)
		} else {
			g.Append(k)
		}
	}
	// Inputs: every dimension but the channels symbolic; no intermediate shapes.
	k := 0
	for _, v := range g.Inputs {
		if v.Type == nil || !v.Type.HasShape {
			continue
		}
		for i := range v.Type.Dims {
			if i == 1 && len(v.Type.Dims) == 4 {
				continue
			}
			v.Type.Dims[i] = ir.Symbolic(fmt.Sprintf("p2o.DynamicDimension.%d", k))
			k++
		}
	}
	for _, n := range g.Nodes() {
		for _, v := range n.Outputs() {
			if v != nil && !v.IsGraphOutput() && n.OpType != "Constant" {
				v.Type = nil
			}
		}
	}
	for _, v := range g.Outputs {
		if v.Type != nil && v.Type.HasShape && len(v.Type.Dims) > 0 {
			v.Type.Dims[0] = ir.Symbolic("p2o.DynamicDimension.0")
		}
	}
	c.SetOpset("", paddleOpset)
	c.ProducerName, c.ProducerVersion = "PaddlePaddle", ""
	return c, c.Verify()
}

// TF2ONNX returns a copy of m in tf2onnx's layout: the 4-D input becomes NHWC followed by
// a Transpose to NCHW, and every Conv reads its input through an NCHW→NHWC→NCHW Transpose
// pair and writes its output through another, as tf2onnx leaves convolutions between
// TensorFlow's NHWC ops.
func TF2ONNX(m *ir.Model) (*ir.Model, error) {
	c := m.Clone()
	g := c.Graph
	toNHWC, toNCHW := []int64{0, 2, 3, 1}, []int64{0, 3, 1, 2}
	for i, v := range g.Inputs {
		if v.IsConst() || v.Type == nil || !v.Type.HasShape || len(v.Type.Dims) != 4 {
			continue
		}
		d := v.Type.Dims
		in := g.AddInput(v.Name+":0", ir.TensorType(v.Type.Elem, d[0], d[2], d[3], d[1]))
		// AddInput appended it; it takes the old input's place.
		g.Inputs = g.Inputs[:len(g.Inputs)-1]
		g.Inputs[i] = in
		t := g.NewNode("", "Transpose", []*ir.Value{in}, []string{v.Name + "__nchw"}, ir.IntsAttr("perm", toNCHW...))
		t.Name = v.Name + "__to_nchw"
		v.ReplaceAllUsesWith(t.Output(0))
		g.InsertBefore(g.Nodes()[0], t)
	}
	for _, n := range g.Nodes() {
		if n.OpType != "Conv" {
			continue
		}
		x := n.Input(0)
		a := g.NewNode("", "Transpose", []*ir.Value{x}, []string{n.Name + "__in_nhwc"}, ir.IntsAttr("perm", toNHWC...))
		b := g.NewNode("", "Transpose", []*ir.Value{a.Output(0)}, []string{n.Name + "__in_nchw"}, ir.IntsAttr("perm", toNCHW...))
		a.Name, b.Name = n.Name+"__transpose_in", n.Name+"__transpose_in2"
		g.InsertBefore(n, a)
		g.InsertBefore(n, b)
		n.SetInput(0, b.Output(0))
		y := n.Output(0)
		if y.IsGraphOutput() {
			continue
		}
		uses := append([]ir.Use(nil), y.Uses()...)
		p := g.NewNode("", "Transpose", []*ir.Value{y}, []string{n.Name + "__out_nhwc"}, ir.IntsAttr("perm", toNHWC...))
		q := g.NewNode("", "Transpose", []*ir.Value{p.Output(0)}, []string{n.Name + "__out_nchw"}, ir.IntsAttr("perm", toNCHW...))
		p.Name, q.Name = n.Name+"__transpose_out", n.Name+"__transpose_out2"
		g.InsertAfter(n, p)
		g.InsertAfter(p, q)
		for _, u := range uses {
			u.Node.SetInput(u.Index, q.Output(0))
		}
	}
	c.ProducerName, c.ProducerVersion = "tf2onnx", ""
	return c, c.Verify()
}
