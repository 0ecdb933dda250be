package passes

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// Channel pruning of multi-head attention as exporters write it out (torch's
// nn.MultiheadAttention, timm and hand-written ViTs, Hugging Face BERT):
//
//	qkv  = x @ Wqkv + b                      [N, T, 3*H*dh]   (or q, k, v from three products)
//	s    = Reshape(qkv, [N, T, 3, H, dh])     (or [N, T, H, dh] each)
//	q, k, v = Gather(Transpose(s), 0/1/2)    [N, H, T, dh]
//	p    = Softmax(q @ k^T * scale)          [N, H, T, T]
//	o    = Reshape(Transpose(p @ v), [N, T, H*dh])
//	y    = o @ Wproj
//
// The unit is found by shape bookkeeping, not by node names: from each Softmax, the
// scores product and the context product are traced back through Transpose, Gather on the
// q/k/v axis, and Mul/Div by a scalar to the Reshape that splits heads, labelling every
// axis of every value in between as head (H), head dimension (D), q/k/v part (P) or other.
// The unit matches when the scores product contracts D of q against D of k, the context
// product keeps D of v, and the merging Reshape joins [H, D] back into the last axis.
//
// Its channels are the H*dh columns of the projection(s) — tied across q, k and v (a fused
// projection's thirds become parts of one group; separate projections are unioned) — and
// the rows of the output projection. Head-splitting constants shrink with them: in "dims"
// mode every head keeps the same number of dimensions (dh shrinks), in "heads" mode whole
// heads go (H shrinks). The scale constant stays: it multiplies what the teacher learned.
// Removing dimension d of head h drops exactly the terms q_hd*k_hd and v_hd*Wproj[hd,:],
// so a pruned unit computes what the original computes with those columns zeroed.

// Axis roles inside an attention unit.
const (
	roleOther = iota
	rolePart
	roleHead
	roleDim
)

// attnSplit is a Reshape that splits a projection's last axis into [(P,) H, D].
type attnSplit struct {
	n     *ir.Node
	parts int64
	// headAt/dimAt are the positions of H and D in the Reshape's shape.
	headAt, dimAt int
	entries       []shapeEntry
}

// attnUnit is one matched attention unit.
type attnUnit struct {
	splits     []*attnSplit
	merge      *ir.Node
	mergeEntry shapeEntry
	heads, dim int64
	// inner are the values between the splits and the merge, with their axis roles.
	inner map[*ir.Value][]int
	whole bool
	// group is the channel group of the projection(s), -1 until the merge resolves it.
	group int
}

// findAttention matches every attention unit of a.g structurally (sources come later).
func (a *chanAnalysis) findAttention(mode string) {
	a.unitOf = map[*ir.Node]*attnUnit{}
	if mode == AttentionKeep {
		return
	}
	for _, n := range a.g.Nodes() {
		if !isOp(n, "Softmax") {
			continue
		}
		u := matchAttention(n)
		if u == nil {
			continue
		}
		u.whole = mode == AttentionHeads
		clash := a.unitOf[u.merge] != nil
		for _, s := range u.splits {
			clash = clash || (a.unitOf[s.n] != nil && a.unitOf[s.n] != u)
		}
		if clash {
			continue
		}
		a.unitOf[u.merge] = u
		for _, s := range u.splits {
			a.unitOf[s.n] = u
		}
	}
}

// attnTracer collects the values of one unit with their axis roles.
type attnTracer struct {
	inner  map[*ir.Value][]int
	nodes  map[*ir.Node]bool
	splits []*attnSplit
	// part is the q/k/v index a traced branch selected with Gather (-1: none).
	heads, dim int64
}

// trace labels v's axes by walking back to a head-splitting Reshape. part reports the
// index a Gather took along the P axis (-1 when the branch has its own split).
func (t *attnTracer) trace(v *ir.Value) (roles []int, part int64, ok bool) {
	p := v.Producer()
	if p == nil || !ir.IsDefaultDomain(p.Domain) || v.IsGraphOutput() {
		return nil, 0, false
	}
	defer func() {
		if ok {
			t.inner[v] = roles
			t.nodes[p] = true
		}
	}()
	switch p.OpType {
	case "Transpose":
		in, part, ok := t.trace(p.Input(0))
		perm := p.AttrInts("perm", nil)
		if !ok || len(perm) != len(in) {
			return nil, 0, false
		}
		out := make([]int, len(perm))
		for i, q := range perm {
			if q < 0 || int(q) >= len(in) {
				return nil, 0, false
			}
			out[i] = in[q]
		}
		return out, part, true
	case "Gather":
		in, _, ok := t.trace(p.Input(0))
		idx, isConst := constInts(p.Input(1))
		axis := int(p.AttrInt("axis", 0))
		if axis < 0 {
			axis += len(in)
		}
		if !ok || !isConst || len(idx) != 1 || rankOf(p.Input(1)) != 0 || axis < 0 || axis >= len(in) || in[axis] != rolePart {
			return nil, 0, false
		}
		out := append(append([]int(nil), in[:axis]...), in[axis+1:]...)
		return out, idx[0], true
	case "Mul", "Div":
		// A scalar scale on q or k.
		x, c := p.Input(0), p.Input(1)
		if p.OpType == "Mul" && constOf(x) != nil {
			x, c = c, x
		}
		if ct := constOf(c); ct == nil || len(ct.Dims) != 0 || x != p.Input(0) && p.OpType == "Div" {
			return nil, 0, false
		}
		return t.trace(x)
	case "Reshape":
		s := matchSplit(p)
		if s == nil {
			return nil, 0, false
		}
		if t.heads == 0 {
			t.heads, t.dim = s.entries[s.headAt].value, s.entries[s.dimAt].value
		}
		if s.entries[s.headAt].value != t.heads || s.entries[s.dimAt].value != t.dim {
			return nil, 0, false
		}
		dup := false
		for _, o := range t.splits {
			dup = dup || o.n == p
		}
		if !dup {
			t.splits = append(t.splits, s)
		}
		roles := make([]int, len(s.entries))
		roles[s.headAt], roles[s.dimAt] = roleHead, roleDim
		if s.parts > 1 {
			roles[s.headAt-1] = rolePart
		}
		return roles, -1, true
	}
	return nil, 0, false
}

// matchSplit recognizes Reshape(x[..., C], [..., (P,) H, dh]) with constant H, dh (and P)
// whose product is C.
func matchSplit(n *ir.Node) *attnSplit {
	x := n.Input(0)
	rank := rankOf(x)
	if rank < 2 || x.Type == nil || !x.Type.Dims[rank-1].IsKnown() || n.AttrInt("allowzero", 0) != 0 {
		return nil
	}
	c := x.Type.Dims[rank-1].Value
	entries, ok := shapeEntries(n, 1)
	if !ok || len(entries) < 3 {
		return nil
	}
	r := len(entries)
	h, d := entries[r-2], entries[r-1]
	if !h.known || !d.known || h.value < 1 || d.value < 1 {
		return nil
	}
	s := &attnSplit{n: n, parts: 1, headAt: r - 2, dimAt: r - 1, entries: entries}
	switch p := entries[r-3]; {
	case h.value*d.value == c:
	case p.known && p.value > 1 && p.value*h.value*d.value == c && r >= 4:
		s.parts = p.value
	default:
		return nil
	}
	return s
}

// shapeEntry is element index of the shape a node reads at input: a constant, or a piece
// of a Concat(axis=0) that builds the shape.
type shapeEntry struct {
	// node and input say where holder is read; index is the element within holder.
	node   *ir.Node
	input  int
	holder *ir.Value
	index  int
	value  int64
	known  bool
}

// shapeEntries lists the elements of the 1-D shape input `input` of n.
func shapeEntries(n *ir.Node, input int) ([]shapeEntry, bool) {
	v := n.Input(input)
	if xs, ok := constInts(v); ok {
		out := make([]shapeEntry, len(xs))
		for i, x := range xs {
			out[i] = shapeEntry{node: n, input: input, holder: v, index: i, value: x, known: true}
		}
		return out, rankOf(v) == 1
	}
	p := v.Producer()
	if !isOp(p, "Concat") || p.AttrInt("axis", 0) != 0 {
		return nil, false
	}
	var out []shapeEntry
	for i, piece := range p.Inputs() {
		if xs, ok := constInts(piece); ok {
			for j, x := range xs {
				out = append(out, shapeEntry{node: p, input: i, holder: piece, index: j, value: x, known: true})
			}
			continue
		}
		dims, ok := staticDims(piece)
		if !ok || len(dims) != 1 {
			return nil, false
		}
		for j := int64(0); j < dims[0]; j++ {
			out = append(out, shapeEntry{node: p, input: i, holder: piece, index: int(j)})
		}
	}
	return out, true
}

// matchAttention finds the unit around Softmax sm, or nil.
func matchAttention(sm *ir.Node) *attnUnit {
	t := &attnTracer{inner: map[*ir.Value][]int{}, nodes: map[*ir.Node]bool{sm: true}}
	// Back from the Softmax through scalar scales to the scores product.
	x := sm.Input(0)
	for i := 0; i < 4; i++ {
		p := x.Producer()
		if p == nil || !(isOp(p, "Mul") || isOp(p, "Div")) {
			break
		}
		o := p.Input(1)
		if isOp(p, "Mul") && constOf(p.Input(0)) != nil {
			o = p.Input(0)
		}
		if ct := constOf(o); ct == nil || len(ct.Dims) != 0 || (isOp(p, "Div") && o != p.Input(1)) {
			return nil
		}
		t.nodes[p] = true
		x = p.Input(0)
		if o == p.Input(0) {
			x = p.Input(1)
		}
	}
	scores := x.Producer()
	if !isOp(scores, "MatMul") {
		return nil
	}
	t.nodes[scores] = true
	q, qPart, ok1 := t.trace(scores.Input(0))
	k, kPart, ok2 := t.trace(scores.Input(1))
	if !ok1 || !ok2 || len(q) != len(k) || len(q) < 3 {
		return nil
	}
	r := len(q)
	headAt := indexOf(q, roleHead)
	if q[r-1] != roleDim || k[r-2] != roleDim || k[r-1] != roleOther || q[r-2] != roleOther ||
		headAt < 0 || headAt >= r-2 || indexOf(k, roleHead) != headAt || indexOf(q, rolePart) >= 0 || indexOf(k, rolePart) >= 0 {
		return nil
	}
	// Forward from the Softmax to the context product.
	ctxMM, idx, ok := onlyUse(sm.Output(0))
	if !ok || !isOp(ctxMM, "MatMul") || idx != 0 {
		return nil
	}
	t.nodes[ctxMM] = true
	v, vPart, ok := t.trace(ctxMM.Input(1))
	if !ok || len(v) != r || v[r-1] != roleDim || indexOf(v, roleHead) != headAt || indexOf(v, rolePart) >= 0 {
		return nil
	}
	// The q/k/v branches take distinct parts of one fused split, or have a split each.
	switch {
	case len(t.splits) == 1 && t.splits[0].parts == 3:
		if qPart < 0 || kPart < 0 || vPart < 0 || qPart == kPart || kPart == vPart || qPart == vPart {
			return nil
		}
	case len(t.splits) == 3:
		for _, s := range t.splits {
			if s.parts != 1 {
				return nil
			}
		}
	default:
		return nil
	}
	rolesOf := func(v *ir.Value) []int {
		out := make([]int, r)
		out[headAt] = roleHead
		return out
	}
	t.inner[scores.Output(0)] = rolesOf(scores.Output(0))
	for n := range t.nodes {
		if isOp(n, "Mul") || isOp(n, "Div") || n == sm {
			if _, traced := t.inner[n.Output(0)]; !traced {
				t.inner[n.Output(0)] = rolesOf(n.Output(0))
			}
		}
	}
	ctxRoles := append([]int(nil), v...)
	t.inner[ctxMM.Output(0)] = ctxRoles
	// Transpose [.., H, T, D] -> [.., T, H, D], then a Reshape merging H and D.
	tr, _, ok := onlyUse(ctxMM.Output(0))
	if !ok || !isOp(tr, "Transpose") {
		return nil
	}
	perm := tr.AttrInts("perm", nil)
	if len(perm) != r {
		return nil
	}
	trRoles := make([]int, r)
	for i, p := range perm {
		if p < 0 || int(p) >= r {
			return nil
		}
		trRoles[i] = ctxRoles[p]
	}
	if trRoles[r-2] != roleHead || trRoles[r-1] != roleDim {
		return nil
	}
	t.nodes[tr] = true
	t.inner[tr.Output(0)] = trRoles
	merge, _, ok := onlyUse(tr.Output(0))
	if !ok || !isOp(merge, "Reshape") || merge.AttrInt("allowzero", 0) != 0 {
		return nil
	}
	entries, ok := shapeEntries(merge, 1)
	if !ok || len(entries) != r-1 {
		return nil
	}
	last := entries[len(entries)-1]
	if last.known && last.value != -1 && last.value != t.heads*t.dim {
		return nil
	}
	if !last.known && rankOf(last.holder) == 1 {
		if dims, _ := staticDims(last.holder); len(dims) != 1 || dims[0] != 1 {
			return nil
		}
	}
	t.nodes[merge] = true
	// Nothing inside may be read from outside the unit.
	for val := range t.inner {
		if val.IsGraphOutput() {
			return nil
		}
		for _, use := range val.Uses() {
			if !t.nodes[use.Node] {
				return nil
			}
		}
	}
	return &attnUnit{splits: t.splits, merge: merge, mergeEntry: last, heads: t.heads, dim: t.dim, inner: t.inner, group: -1}
}

func indexOf(xs []int, x int) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

// attentionReshape handles the Reshapes of a unit: a split claims the projection it
// reads; the merge, reached after every split, ties the projections and gives the merged
// heads their source.
func (a *chanAnalysis) attentionReshape(n *ir.Node, claimed map[int]bool) {
	u := a.unitOf[n]
	if n != u.merge {
		claimed[0] = a.src[n.Input(0)] != nil
		return
	}
	var srcs []*chanSrc
	for _, s := range u.splits {
		if src := a.src[s.n.Input(0)]; src != nil {
			srcs = append(srcs, src)
		}
	}
	fail := func(format string, args ...any) {
		for _, s := range srcs {
			a.block(s, format, args...)
		}
	}
	if len(srcs) != len(u.splits) {
		fail("attention %s: not every q/k/v projection is prunable", n.Describe())
		return
	}
	var id int
	for i, s := range u.splits {
		src := srcs[i]
		rank := rankOf(s.n.Input(0))
		g := a.groups[a.find(src.segs[0].group)]
		if len(src.segs) != 1 || src.spatial > 0 || src.axis != rank-1 || src.segs[0].n != g.c || src.width() != s.parts*u.heads*u.dim {
			fail("attention %s: the projection's columns do not come whole from one layer", n.Describe())
			return
		}
		if i == 0 {
			id = src.segs[0].group
			continue
		}
		a.union(id, src.segs[0].group, nodeLabel(n))
	}
	g := a.groups[a.find(id)]
	if p := int(u.splits[0].parts); p > 1 {
		if g.parts != 1 && g.parts != p {
			fail("attention %s: projection already split in %d parts", n.Describe(), g.parts)
			return
		}
		g.parts = p
	}
	a.constrain(id, int(u.heads), u.whole, nodeLabel(n))
	u.group = id
	claimed[0] = true
	rank := rankOf(n.Output(0))
	a.src[n.Output(0)] = &chanSrc{segs: []chanSeg{{a.find(id), 0, int(u.heads * u.dim)}}, axis: rank - 1}
}

// applyAttention rewrites the head-splitting constants and the types inside each pruned
// unit: H' heads of dh' dimensions.
func (a *chanAnalysis) applyAttention(r *rewriter) error {
	done := map[*attnUnit]bool{}
	for _, u := range a.unitOf {
		if done[u] || u.group < 0 {
			continue
		}
		done[u] = true
		keep := a.groups[a.find(u.group)].keep
		if keep == nil {
			continue
		}
		heads, dim := int64(0), int64(0)
		for h := int64(0); h < u.heads; h++ {
			kept := int64(0)
			for d := int64(0); d < u.dim; d++ {
				if keep[h*u.dim+d] {
					kept++
				}
			}
			if kept > 0 {
				heads++
				if dim != 0 && kept != dim {
					return fmt.Errorf("attention %s: heads keep %d and %d dimensions", u.merge.Describe(), dim, kept)
				}
				dim = kept
			}
		}
		if heads == u.heads && dim == u.dim {
			continue
		}
		for _, s := range u.splits {
			if err := r.setShapeEntry(s.entries[s.headAt], heads); err != nil {
				return err
			}
			// Entries are re-read: the rewrite above may have replaced the holder.
			entries, ok := shapeEntries(s.n, 1)
			if !ok {
				return fmt.Errorf("attention %s: the head shape is no longer readable", s.n.Describe())
			}
			if err := r.setShapeEntry(entries[s.dimAt], dim); err != nil {
				return err
			}
		}
		if e := u.mergeEntry; !e.known || e.value != -1 {
			entries, ok := shapeEntries(u.merge, 1)
			if !ok {
				return fmt.Errorf("attention %s: the merged shape is no longer readable", u.merge.Describe())
			}
			if err := r.setShapeEntry(entries[len(entries)-1], heads*dim); err != nil {
				return err
			}
		}
		for v, roles := range u.inner {
			if v.Type == nil || !v.Type.HasShape || len(v.Type.Dims) != len(roles) {
				continue
			}
			t := v.Type.Clone()
			for i, role := range roles {
				switch role {
				case roleHead:
					t.Dims[i] = ir.Known(heads)
				case roleDim:
					t.Dims[i] = ir.Known(dim)
				}
			}
			v.Type = t
		}
	}
	return nil
}

// setShapeEntry makes shape element e hold x: a constant holder gets a new tensor, a
// computed one-element piece is replaced by a constant.
func (r *rewriter) setShapeEntry(e shapeEntry, x int64) error {
	if e.known && e.value == x {
		return nil
	}
	var nt *ir.Tensor
	if t := constOf(e.holder); t != nil {
		xs, err := t.Int64s()
		if err != nil || e.index >= len(xs) {
			return fmt.Errorf("%s input %d: not an int64 shape", e.node.Describe(), e.input)
		}
		xs = append([]int64(nil), xs...)
		xs[e.index] = x
		nt = ir.FromInt64(e.holder.Name, t.Dims, xs)
	} else {
		nt = ir.FromInt64(e.holder.Name, []int64{1}, []int64{x})
	}
	old := r.replaceConstInput(e.node, e.input, nt)
	if old != nil {
		return r.dropOrphans([]*ir.Value{old})
	}
	return nil
}
