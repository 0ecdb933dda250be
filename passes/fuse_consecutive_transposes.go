package passes

import "github.com/whittle-ml/whittle/ir"

func init() {
	Register(Info{
		Name: "fuse_consecutive_transposes",
		Doc: "compose Transpose(Transpose(x, p1), p2) into one Transpose(x, p1∘p2), dropped when the " +
			"composition is the identity",
		New:        noParams("fuse_consecutive_transposes", fuseConsecutiveTransposes),
		FixedPoint: true,
	})
}

func fuseConsecutiveTransposes(ctx *Context, m *ir.Model) (bool, error) {
	ctx.ensureTypes(m)
	r := newRewriter(ctx, m)
	for _, g := range workGraphs(m) {
		for _, second := range g.Nodes() {
			if !isOp(second, "Transpose") {
				continue
			}
			first := second.Input(0).Producer()
			if !isOp(first, "Transpose") || first.Graph() != g {
				continue
			}
			p1, ok1 := permOf(first)
			p2, ok2 := permOf(second)
			if !ok1 || !ok2 || len(p1) != len(p2) {
				continue
			}
			// out[i] = mid[p2[i]] = in[p1[p2[i]]].
			composed := make([]int64, len(p2))
			identity := true
			for i, a := range p2 {
				if a < 0 || int(a) >= len(p1) {
					identity = false
					composed = nil
					break
				}
				composed[i] = p1[a]
				if composed[i] != int64(i) {
					identity = false
				}
			}
			if composed == nil {
				continue
			}
			x := first.Input(0)
			if identity {
				if !r.replaceValue(second.Output(0), x) {
					// The output name must stay: keep one Transpose with the identity perm,
					// reading x directly.
					r.setInput(second, 0, x)
					r.setAttr(second, ir.IntsAttr("perm", composed...))
				} else if err := r.removeNode(second); err != nil {
					return r.changed, err
				}
			} else {
				r.setInput(second, 0, x)
				r.setAttr(second, ir.IntsAttr("perm", composed...))
			}
			// The first transpose goes when nothing else reads it.
			if out := first.Output(0); len(out.Uses()) == 0 && !out.IsGraphOutput() {
				if err := r.removeNode(first); err != nil {
					return r.changed, err
				}
			}
		}
	}
	return r.changed, nil
}

// permOf returns a Transpose's permutation; the default reverses the axes (needs the rank).
func permOf(n *ir.Node) ([]int64, bool) {
	if p := n.AttrInts("perm", nil); p != nil {
		return p, true
	}
	rank := rankOf(n.Input(0))
	if rank < 0 {
		return nil, false
	}
	p := make([]int64, rank)
	for i := range p {
		p[i] = int64(rank - 1 - i)
	}
	return p, true
}
