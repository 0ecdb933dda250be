package passes

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/stats"
)

// rewriter edits a model on behalf of one pass and logs every edit in the Context's
// ChangeLog, so that no pass can change the IR without saying so. Passes never call the
// ir editing methods (SetInput, RemoveNode, ...) directly.
type rewriter struct {
	ctx     *Context
	m       *ir.Model
	changed bool
	// names holds every value name in the model, built on first need, so that new values
	// get names no graph uses (subgraphs may read outer names, so one set for all).
	names *ir.Names
	// fresh marks values this rewriter created: when one replaces an old value it takes
	// the old value's name, which keeps names stable across passes and diffs readable.
	fresh map[*ir.Value]bool
	// aside holds the original names of values renamed out of the way by replaceValue,
	// so that the log names their nodes as the user knows them.
	aside map[*ir.Value]string
	// rawUsers counts, by first byte, the tensors of the model holding each block of
	// bytes, built on first need (mayOverwrite).
	rawUsers map[*byte]int
}

func newRewriter(ctx *Context, m *ir.Model) *rewriter {
	return &rewriter{ctx: ctx, m: m, fresh: map[*ir.Value]bool{}, aside: map[*ir.Value]string{}}
}

func (r *rewriter) record(c Change) {
	c.Pass = r.ctx.pass
	r.ctx.log().Add(c)
	r.changed = true
}

// nodeLabel names a node for the log: its name, else its first output's name.
func nodeLabel(n *ir.Node) string {
	if n.Name != "" {
		return n.Name
	}
	for _, v := range n.Outputs() {
		if v != nil {
			return v.Name
		}
	}
	return "#" + strconv.Itoa(n.ID())
}

func opLabel(n *ir.Node) string { return ir.QualifiedOp(n.Domain, n.OpType) }

func (r *rewriter) graphLabel(g *ir.Graph) string {
	if g == nil || g == r.m.Graph {
		return ""
	}
	if g.Name == "" {
		return "(subgraph)"
	}
	return g.Name
}

func nameOf(v *ir.Value) string {
	if v == nil {
		return ""
	}
	return v.Name
}

// freshName returns hint, or hint with a suffix, unused anywhere in the model.
func (r *rewriter) freshName(hint string) string {
	if r.names == nil {
		r.names = ir.ValueNames(r.m)
	}
	return r.names.Fresh(hint)
}

// setInput makes input i of n read v.
func (r *rewriter) setInput(n *ir.Node, i int, v *ir.Value) {
	old := n.Input(i)
	if old == v {
		return
	}
	n.SetInput(i, v)
	r.record(Change{Kind: InputRewired, Graph: r.graphLabel(n.Graph()), Node: nodeLabel(n), Op: opLabel(n),
		Index: i, From: nameOf(old), To: nameOf(v)})
}

// appendInput adds v as n's last input.
func (r *rewriter) appendInput(n *ir.Node, v *ir.Value) {
	n.AppendInput(v)
	r.record(Change{Kind: InputRewired, Graph: r.graphLabel(n.Graph()), Node: nodeLabel(n), Op: opLabel(n),
		Index: len(n.Inputs()) - 1, To: nameOf(v)})
}

// replaceAllUses makes every node reading old read w (graph outputs are not touched).
func (r *rewriter) replaceAllUses(old, w *ir.Value) {
	for _, u := range append([]ir.Use(nil), old.Uses()...) {
		r.setInput(u.Node, u.Index, w)
	}
}

// canStandIn reports whether w can replace old everywhere, graph outputs included. A
// graph output's name is the model's interface and must not change, so when old is a
// graph output w has to take old's name: w must be a node output or a plain initializer of
// the same graph, and not already a graph output or graph input under its own name.
func canStandIn(old, w *ir.Value) bool {
	if old == w || !old.IsGraphOutput() {
		return true
	}
	if w.Graph() != old.Graph() || w.IsGraphOutput() || w.IsGraphInput() {
		return false
	}
	return w.Producer() != nil || w.Const != nil
}

// replaceValue makes w stand in for old: every use, and old's place among the graph
// outputs. When old is a graph output, or w was made by this rewriter, w takes old's name
// (old is renamed aside; the caller removes it next). It returns false, changing nothing,
// when canStandIn says no.
func (r *rewriter) replaceValue(old, w *ir.Value) bool {
	if !canStandIn(old, w) {
		return false
	}
	wasOutput := old.IsGraphOutput()
	r.replaceAllUses(old, w)
	g := old.Graph()
	takeName := r.fresh[w]
	for i, out := range g.Outputs {
		if out == old {
			g.ReplaceOutput(i, w)
			r.record(Change{Kind: OutputChanged, Graph: r.graphLabel(g), Value: old.Name, Index: i, From: old.Name, To: w.Name})
			takeName = true
		}
	}
	if takeName && w.Name != old.Name && w.Graph() == g {
		name := old.Name
		r.aside[old] = name
		r.rename(old, r.freshName(old.Name+"_replaced"))
		r.rename(w, name)
		if old.Type != nil && (w.Type == nil || wasOutput || w.Type.Rank() < 0) {
			w.Type = old.Type.Clone()
		}
	}
	return true
}

func (r *rewriter) rename(v *ir.Value, name string) {
	if v.Name == name {
		return
	}
	r.record(Change{Kind: ValueRenamed, Graph: r.graphLabel(v.Graph()), Value: name, From: v.Name, To: name})
	if v.Const != nil && v.Const.Name == v.Name {
		t := v.Const.Clone()
		t.Name = name
		v.Const = t
	}
	v.Name = name
	if r.names != nil {
		r.names.Take(name)
	}
}

// releaseCaptures drops the uses that n's subgraphs make of outer values, so that n can
// be removed without leaving dangling use entries behind.
func releaseCaptures(n *ir.Node) {
	var walk func(sub *ir.Graph)
	walk = func(sub *ir.Graph) {
		for _, m := range sub.Nodes() {
			for i, v := range m.Inputs() {
				if v != nil && v.Graph() != sub && !inside(v.Graph(), sub) {
					m.SetInput(i, nil)
				}
			}
			for _, s := range m.Subgraphs() {
				walk(s)
			}
		}
	}
	for _, sub := range n.Subgraphs() {
		walk(sub)
	}
}

// inside reports whether g is sub or nested in it.
func inside(g, sub *ir.Graph) bool {
	for ; g != nil; g = g.Parent() {
		if g == sub {
			return true
		}
	}
	return false
}

// removeNode takes n out of its graph; its outputs must be unused.
func (r *rewriter) removeNode(n *ir.Node) error {
	for _, out := range n.Outputs() {
		if out != nil && (len(out.Uses()) > 0 || out.IsGraphOutput()) {
			return fmt.Errorf("remove %s: output %q is still used", n.Describe(), out.Name)
		}
	}
	releaseCaptures(n)
	if err := n.Graph().RemoveNode(n); err != nil {
		return err
	}
	label := nodeLabel(n)
	if n.Name == "" {
		if orig, ok := r.aside[n.Output(0)]; ok {
			label = orig
		}
	}
	r.record(Change{Kind: NodeRemoved, Graph: r.graphLabel(n.Graph()), Node: label, Op: opLabel(n)})
	return nil
}

// newNode creates a node whose outputs are named after hints (made unique) and puts it
// just before ref (at the end when ref is nil).
func (r *rewriter) newNode(g *ir.Graph, ref *ir.Node, domain, op string, inputs []*ir.Value, hints []string, attrs ...*ir.Attr) *ir.Node {
	names := make([]string, len(hints))
	for i, h := range hints {
		if h != "" {
			names[i] = r.freshName(h)
		}
	}
	n := g.NewNode(domain, op, inputs, names, attrs...)
	for _, v := range n.Outputs() {
		if v != nil {
			r.fresh[v] = true
		}
	}
	if ref == nil {
		g.Append(n)
	} else {
		g.InsertBefore(ref, n)
	}
	r.record(Change{Kind: NodeAdded, Graph: r.graphLabel(g), Node: nodeLabel(n), Op: opLabel(n)})
	return n
}

// setAttr sets (or adds) an attribute of n.
func (r *rewriter) setAttr(n *ir.Node, a *ir.Attr) {
	from := ""
	if old := n.Attr(a.Name); old != nil {
		from = old.ValueString()
	}
	n.SetAttr(a)
	r.record(Change{Kind: NodeChanged, Graph: r.graphLabel(n.Graph()), Node: nodeLabel(n), Op: opLabel(n),
		Detail: "attribute " + a.Name, From: from, To: a.ValueString()})
}

// deleteAttr drops an attribute of n, if present.
func (r *rewriter) deleteAttr(n *ir.Node, name string) {
	old := n.Attr(name)
	if old == nil {
		return
	}
	n.DeleteAttr(name)
	r.record(Change{Kind: NodeChanged, Graph: r.graphLabel(n.Graph()), Node: nodeLabel(n), Op: opLabel(n),
		Detail: "attribute " + name, From: old.ValueString()})
}

// addConst adds an initializer holding t to g, named after hint (made unique).
func (r *rewriter) addConst(g *ir.Graph, hint string, t *ir.Tensor) *ir.Value {
	t = t.Clone()
	t.Name = r.freshName(hint)
	v := g.AddInitializer(t)
	r.fresh[v] = true
	r.record(Change{Kind: InitializerAdded, Graph: r.graphLabel(g), Value: v.Name, To: tensorSummary(t)})
	return v
}

// setConst replaces the data of initializer v with t, logging what changed.
func (r *rewriter) setConst(v *ir.Value, t *ir.Tensor) {
	old := v.Const
	t = t.Clone()
	t.Name = v.Name
	v.Const = t
	v.Type = ir.TensorTypeOf(t.DataType, t.Dims...)
	r.record(Change{Kind: InitializerChanged, Graph: r.graphLabel(v.Graph()), Value: v.Name,
		From: tensorSummary(old), To: tensorSummary(t), Detail: constChangeDetail(old, t)})
}

// constOverwritten logs that the bytes of v's constant were changed in place (see
// Context.OwnsData): its type and shape are as they were, its values are not; from is
// its tensorSummary taken before.
func (r *rewriter) constOverwritten(v *ir.Value, from string) {
	r.record(Change{Kind: InitializerChanged, Graph: r.graphLabel(v.Graph()), Value: v.Name,
		From: from, To: tensorSummary(v.Const), Detail: "values"})
}

// removeInitializer drops an unused initializer (and its graph input entry, in IR < 4).
func (r *rewriter) removeInitializer(v *ir.Value) error {
	if err := v.Graph().RemoveInitializer(v); err != nil {
		return err
	}
	r.record(Change{Kind: InitializerRemoved, Graph: r.graphLabel(v.Graph()), Value: v.Name, From: constSummary(v)})
	return nil
}

func constSummary(v *ir.Value) string {
	if v.Const != nil {
		return tensorSummary(v.Const)
	}
	if v.SparseConst != nil && v.SparseConst.Values != nil {
		return "sparse " + ir.TensorTypeString(v.SparseConst.Values)
	}
	return ""
}

// tensorSummary is "float[64,3,3,3] sparsity=0.12".
func tensorSummary(t *ir.Tensor) string {
	if t == nil {
		return ""
	}
	s := ir.TensorTypeString(t)
	if n, err := t.NumElements(); err == nil && n > 0 && t.External == nil {
		z := stats.CountZeros(t)
		if z > 0 {
			s += fmt.Sprintf(" sparsity=%.4g", float64(z)/float64(n))
		}
	}
	return s
}

// constChangeDetail says which of dtype, shape and values changed.
func constChangeDetail(a, b *ir.Tensor) string {
	if a == nil {
		return "values"
	}
	var what []string
	if a.DataType != b.DataType {
		what = append(what, "dtype")
	}
	if !slices.Equal(a.Dims, b.Dims) {
		what = append(what, "shape")
	}
	if !sameData(a, b) {
		what = append(what, "values")
	}
	out := ""
	for i, w := range what {
		if i > 0 {
			out += ","
		}
		out += w
	}
	return out
}
