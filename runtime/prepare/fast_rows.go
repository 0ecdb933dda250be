package prepare

import "github.com/whittle-ml/whittle/ir"

// Row-wise operators over the last axis, whose kernels run each row with vector loops.
const (
	// OpLayerNorm is LayerNormalization over the last axis with constant scale and bias
	// (attribute epsilon), without the Mean and InvStdDev outputs.
	OpLayerNorm = "LayerNorm"
	// OpSoftmax is Softmax over the last axis.
	OpSoftmax = "Softmax"
)

// fastRows gives float LayerNormalization and Softmax over the last axis the vector
// kernels.
var fastRows = Rule{Name: "fast_rows", Apply: applyFastRows}

func applyFastRows(c *Context, g *ir.Graph) (bool, error) {
	changed := false
	opset, _ := c.Model.Opset("")
	for _, n := range g.Nodes() {
		if !isDefault(n) || !isFloatTensor(n.Input(0)) || !isFloatTensor(n.Output(0)) {
			continue
		}
		r := rank(n.Input(0))
		if r < 1 {
			continue
		}
		var op string
		var attrs []*ir.Attr
		switch n.OpType {
		case "LayerNormalization":
			axis := n.AttrInt("axis", -1)
			scale, bias := n.Input(1), n.Input(2)
			_, okS := constFloats(scale)
			okB := bias == nil
			if !okB {
				_, okB = constFloats(bias)
			}
			if (axis != -1 && axis != int64(r-1)) || !okS || !okB || len(n.Outputs()) > 1 && hasOutput(n, 1, 2) ||
				n.AttrInt("stash_type", 1) != 1 {
				continue
			}
			op, attrs = OpLayerNorm, []*ir.Attr{ir.FloatAttr("epsilon", n.AttrFloat("epsilon", 1e-5))}
		case "Softmax":
			def := int64(-1)
			if opset < 13 {
				def = 1
			}
			axis := n.AttrInt("axis", def)
			if axis != -1 && axis != int64(r-1) {
				continue
			}
			op = OpSoftmax
		default:
			continue
		}
		f := g.NewNode(Domain, op, n.Inputs(), c.tmpNames(n)[:1], attrs...)
		f.Name = n.Name
		if err := replace(g, []*ir.Node{n}, n, f); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

// hasOutput reports whether any of n's outputs at the given indices exists.
func hasOutput(n *ir.Node, idx ...int) bool {
	for _, i := range idx {
		if n.Output(i) != nil {
			return true
		}
	}
	return false
}
