package prepare

import (
	"github.com/whittle-ml/whittle/ir"
)

// fuseQLookupMul puts QMulLookup in place of a QLookup of x whose only reader multiplies it
// by x again:
//
//	t = QLookup(x, x_scale, x_zp, t_scale, t_zp, ...)
//	y = QMul(x, x_scale, x_zp, t, t_scale, t_zp, y_scale, y_zp)   (or t first)
//	  ⇒  y = QMulLookup(x, x_scale, x_zp, t_scale, t_zp, y_scale, y_zp, ...)
//
// SiLU (x·Sigmoid(x)) and similar gates quantized as QDQ groups become this pair; the byte
// of y depends on the byte of x alone, so the fused kernel is one table of the two steps'
// exact results (t quantized as the QLookup did, then the product as QMul computes it) and
// reads the tensor once instead of three times. The QMul's folded clamp (act_min,
// act_max) goes with it. One application reaches a fixed point.
var fuseQLookupMul = Rule{Name: "fuse_qlookup_mul", Apply: applyFuseQLookupMul}

func applyFuseQLookupMul(c *Context, g *ir.Graph) (bool, error) {
	if c.all {
		return false, nil
	}
	changed := false
	for _, n := range g.Nodes() {
		lookup, x := matchQLookupMul(c, n)
		if lookup == nil {
			continue
		}
		in := lookup.Inputs()
		// The QMul's parameters of x and of the gate equal the QLookup's.
		inputs := append([]*ir.Value{x, in[1], in[2], in[3], in[4], n.Input(6), n.Input(7)}, in[5:]...)
		var attrs []*ir.Attr
		attrs = append(attrs, lookup.Attrs...)
		for _, name := range []string{"act_min", "act_max"} {
			if a := n.Attr(name); a != nil {
				attrs = append(attrs, a)
			}
		}
		fused := g.NewNode(Domain, OpQMulLookup, inputs, c.tmpNames(n), attrs...)
		fused.Name = n.Name
		if err := replace(g, []*ir.Node{lookup, n}, n, fused); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

// matchQLookupMul reports whether n is a QMul of x by a QLookup of x (x dequantized with
// the same parameters in both) that nothing else reads; it returns the QLookup and x.
func matchQLookupMul(c *Context, n *ir.Node) (*ir.Node, *ir.Value) {
	if n.Domain != Domain || n.OpType != OpQMul || len(n.Inputs()) != 8 || len(n.Outputs()) != 1 {
		return nil, nil
	}
	for _, order := range [][2]int{{0, 3}, {3, 0}} {
		x, t := n.Input(order[0]), n.Input(order[1])
		l := t.Producer()
		if l == nil || l.Domain != Domain || l.OpType != OpQLookup || len(l.Inputs()) < 5 || l.Input(0) != x ||
			c.soleUser(t) != n || len(t.Uses()) != 1 {
			continue
		}
		if !sameQParams(n.Input(order[0]+1), n.Input(order[0]+2), l.Input(1), l.Input(2)) ||
			!sameQParams(n.Input(order[1]+1), n.Input(order[1]+2), l.Input(3), l.Input(4)) {
			continue
		}
		return l, x
	}
	return nil, nil
}

// sameQParams reports whether two (scale, zero point) pairs of constants are equal: the
// same float scale, and zero points of the same type and value (nil reads as uint8 0).
func sameQParams(s1, z1, s2, z2 *ir.Value) bool {
	a, ok1 := constScalar(s1)
	b, ok2 := constScalar(s2)
	if !ok1 || !ok2 || a != b {
		return false
	}
	zp := func(z *ir.Value) (ir.DataType, int64, bool) {
		if z == nil {
			return ir.Uint8, 0, true
		}
		if z.Const == nil {
			return 0, 0, false
		}
		v, err := z.Const.Int64s()
		if err != nil || len(v) != 1 {
			return 0, 0, false
		}
		return z.Const.DataType, v[0], true
	}
	t1, v1, ok1 := zp(z1)
	t2, v2, ok2 := zp(z2)
	return ok1 && ok2 && t1 == t2 && v1 == v2
}
