package prepare

import (
	"github.com/whittle-ml/whittle/ir"
)

// OpFusedGemm is a matrix product with constant weights: Y = act(alpha·A·op(B) + bias + Z),
// where A is [..., K] (every leading axis a row), B is a constant [K, N] ([N, K] with
// transB = 1), bias an optional constant [N] and Z (input 3) an optional tensor of Y's
// shape (a residual connection). Its kernel packs B once.
const OpFusedGemm = "FusedGemm"

// fuseGemm turns Gemm (without transA) and MatMul with constant 2-D weights into
// FusedGemm, and folds into a FusedGemm that has no activation yet: an Add of a tensor of
// its shape (a residual), an Add of a constant bias over its columns, a
// BatchNormalization of its columns, and an activation.
var fuseGemm = Rule{Name: "fuse_gemm", Apply: applyFuseGemm}

func applyFuseGemm(c *Context, g *ir.Graph) (bool, error) {
	changed := false
	for _, n := range g.Nodes() {
		var fused *ir.Node
		var nodes []*ir.Node
		last := n
		switch {
		case isOp(n, "Gemm") || isOp(n, "MatMul"):
			fused = c.gemmToFused(g, n)
			nodes = []*ir.Node{n}
		case n.Domain == Domain && n.OpType == OpFusedGemm && n.AttrString("activation", "") == "":
			y := n.Output(0)
			if act, params, actNodes, actLast := c.matchActivation(y); act != "" {
				fused = c.withAttrs(g, n, actLast, n.Inputs(), ir.StringAttr("activation", act), ir.FloatsAttr("activation_params", params...))
				nodes, last = append([]*ir.Node{n}, actNodes...), actLast
				break
			}
			user := c.soleUser(y)
			if user == nil || user.Input(0) != y && !isOp(user, "Add") {
				continue
			}
			if z := residualOf(user, y); z != nil && len(n.Inputs()) < 4 {
				inputs := append([]*ir.Value(nil), n.Inputs()...)
				for len(inputs) < 3 {
					inputs = append(inputs, nil)
				}
				fused = c.withAttrs(g, n, user, append(inputs, z))
				nodes, last = []*ir.Node{n, user}, user
				break
			}
			if bias, scale, ok := c.columnAffine(user, y, gemmCols(n)); ok {
				fused = c.foldColumnAffine(g, n, user, bias, scale)
				nodes, last = []*ir.Node{n, user}, user
			}
		}
		if fused == nil {
			continue
		}
		if err := replace(g, nodes, last, fused); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

// gemmToFused returns the FusedGemm for a Gemm or MatMul with constant float weights, or
// nil.
func (c *Context) gemmToFused(g *ir.Graph, n *ir.Node) *ir.Node {
	a, b := n.Input(0), n.Input(1)
	if !isFloatTensor(n.Output(0)) || b == nil || b.Const == nil || b.Const.DataType != ir.Float || len(b.Const.Dims) != 2 ||
		rank(a) < 2 {
		return nil
	}
	transB := int64(0)
	var bias *ir.Value
	alpha := float32(1)
	if n.OpType == "Gemm" {
		if n.AttrInt("transA", 0) != 0 || rank(a) != 2 {
			return nil
		}
		transB, alpha = n.AttrInt("transB", 0), n.AttrFloat("alpha", 1)
		nCols := b.Const.Dims[1]
		if transB != 0 {
			nCols = b.Const.Dims[0]
		}
		if cv := n.Input(2); cv != nil {
			vals, ok := constFloats(cv)
			if !ok || (len(vals) != 1 && len(vals) != int(nCols)) || (rank(cv) == 2 && cv.Type.Dims[0].Value != 1) {
				return nil
			}
			beta := n.AttrFloat("beta", 1)
			out := make([]float32, nCols)
			for j := range out {
				out[j] = beta * vals[j%len(vals)]
			}
			bias = g.AddInitializer(ir.FromFloat32(c.Fresh(n.Name+"_bias"), []int64{nCols}, out))
		}
	}
	inputs := []*ir.Value{a, b}
	if bias != nil {
		inputs = append(inputs, bias)
	}
	f := g.NewNode(Domain, OpFusedGemm, inputs, c.tmpNames(n), ir.IntAttr("transB", transB), ir.FloatAttr("alpha", alpha))
	f.Name = n.Name
	return f
}

// gemmCols returns a FusedGemm's number of output columns.
func gemmCols(n *ir.Node) int {
	d := n.Input(1).Const.Dims
	if n.AttrInt("transB", 0) != 0 {
		return int(d[0])
	}
	return int(d[1])
}

// columnAffine recognises user as y·scale + bias per column of y's cols columns: an Add
// of a constant [cols] or [1, cols] (scale 1), or an inference BatchNormalization of a
// rank-2 y with constant parameters.
func (c *Context) columnAffine(user *ir.Node, y *ir.Value, cols int) (bias, scale []float32, ok bool) {
	switch {
	case isOp(user, "Add") && len(user.Inputs()) == 2:
		other := user.Input(1)
		if other == y {
			other = user.Input(0)
		}
		vals, ok := constFloats(other)
		if !ok || len(vals) != cols || rank(other) > 2 || (rank(other) == 2 && other.Type.Dims[0].Value != 1) {
			return nil, nil, false
		}
		return vals, nil, true
	case isOp(user, "BatchNormalization") && rank(y) == 2:
		scale, bias, ok := inferenceBatchNorm(user, y, cols)
		return bias, scale, ok
	}
	return nil, nil, false
}

// foldColumnAffine returns n with its weights scaled per column and bias' = bias·scale +
// add (new initializers; the originals may have other readers).
func (c *Context) foldColumnAffine(g *ir.Graph, n, user *ir.Node, add, scale []float32) *ir.Node {
	cols := gemmCols(n)
	bias := make([]float32, cols)
	if old := n.Input(2); old != nil {
		vals, _ := constFloats(old)
		copy(bias, vals)
	}
	inputs := append([]*ir.Value(nil), n.Inputs()...)
	if scale != nil {
		w, _ := constFloats(n.Input(1))
		sw := make([]float32, len(w))
		transB := n.AttrInt("transB", 0) != 0
		for i, v := range w {
			j := i % cols
			if transB {
				j = i / (len(w) / cols)
			}
			sw[i] = v * scale[j]
		}
		inputs[1] = g.AddInitializer(ir.FromFloat32(c.Fresh(n.Input(1).Name+"_scaled"), n.Input(1).Const.Dims, sw))
		for j := range bias {
			bias[j] *= scale[j]
		}
	}
	for j := range bias {
		bias[j] += add[j]
	}
	bv := g.AddInitializer(ir.FromFloat32(c.Fresh(n.Name+"_bias"), []int64{int64(cols)}, bias))
	if len(inputs) < 3 {
		inputs = append(inputs, bv)
	} else {
		inputs[2] = bv
	}
	return c.withAttrs(g, n, user, inputs)
}

// withAttrs returns a copy of n (to replace n…last) with the given inputs and extra
// attributes (replacing those of the same name).
func (c *Context) withAttrs(g *ir.Graph, n, last *ir.Node, inputs []*ir.Value, extra ...*ir.Attr) *ir.Node {
	var attrs []*ir.Attr
	for _, a := range n.Attrs {
		keep := true
		for _, e := range extra {
			keep = keep && a.Name != e.Name
		}
		if keep {
			attrs = append(attrs, a)
		}
	}
	for _, e := range extra {
		if e.Type == ir.AttrFloats && len(e.Floats) == 0 {
			continue
		}
		attrs = append(attrs, e)
	}
	f := g.NewNode(n.Domain, n.OpType, inputs, c.tmpNames(last), attrs...)
	f.Name = n.Name
	return f
}

// constFloats returns the values of a float initializer.
func constFloats(v *ir.Value) ([]float32, bool) {
	if v == nil || v.Const == nil || v.Const.DataType != ir.Float {
		return nil, false
	}
	f, err := v.Const.Float32s()
	return f, err == nil
}

// residualOf returns the other operand of an Add of y and a non-constant tensor of y's
// shape, or nil.
func residualOf(add *ir.Node, y *ir.Value) *ir.Value {
	if !isOp(add, "Add") || len(add.Inputs()) != 2 {
		return nil
	}
	z := add.Input(0)
	if z == y {
		z = add.Input(1)
	}
	if z == nil || z == y || z.IsConst() || !sameStaticShape(y, z) || !sameStaticShape(y, add.Output(0)) {
		return nil
	}
	return z
}
