package irdiff

import (
	"fmt"
	"strconv"

	"github.com/whittle-ml/whittle/ir"
)

// comparer walks matched graphs and builds their GraphDiffs.
type comparer struct {
	d       *Diff
	m       *matching
	ex      *explainer
	all     bool
	summary Summary
}

func (c *comparer) count(s Status, e Explanation) {
	switch s {
	case Added:
		c.summary.Added++
	case Removed:
		c.summary.Removed++
	case Changed:
		c.summary.Changed++
	default:
		return
	}
	if e.Unexplained {
		c.summary.Unexplained++
	}
}

func (c *comparer) graph(gA, gB *ir.Graph) *GraphDiff {
	gd := &GraphDiff{Name: gB.Name}
	if gA.Name != gB.Name {
		gd.OldName = gA.Name
	}
	// The pass manager names the graph of a change only outside the main graph.
	graphs := []string{""}
	if gA.Owner() != nil || gB.Owner() != nil {
		graphs = []string{gA.Name, gB.Name, "(subgraph)"}
	}
	gd.Inputs = c.values(graphInputs(gA), graphInputs(gB), graphs, false)
	gd.Outputs = c.values(gA.Outputs, gB.Outputs, graphs, true)
	gd.Initializers = c.initializers(gA, gB, graphs)
	gd.Nodes = c.nodes(gA, gB, graphs)
	return gd
}

func (c *comparer) keep(s Status) bool { return s != Unchanged || c.all }

// values compares graph inputs or outputs. Outputs are paired by name then position
// (their values need not be matched: an output now computed by another node is the same
// output, changed).
func (c *comparer) values(as, bs []*ir.Value, graphs []string, outputs bool) []ValueDiff {
	pairA, pairB := map[int]int{}, map[int]int{}
	how := map[int]string{}
	if outputs {
		usedA := map[int]bool{}
		for j, b := range bs {
			for i, a := range as {
				if !usedA[i] && a.Name == b.Name {
					pairA[i], pairB[j], how[j] = j, i, byName
					usedA[i] = true
					break
				}
			}
		}
		var restA, restB []int
		for i := range as {
			if !usedA[i] {
				restA = append(restA, i)
			}
		}
		for j := range bs {
			if _, ok := pairB[j]; !ok {
				restB = append(restB, j)
			}
		}
		for k := 0; k < len(restA) && k < len(restB); k++ {
			pairA[restA[k]], pairB[restB[k]], how[restB[k]] = restB[k], restA[k], byPosition
		}
	} else {
		index := map[*ir.Value]int{}
		for i, a := range as {
			index[a] = i
		}
		for j, b := range bs {
			if a := c.m.valBA[b]; a != nil {
				if i, ok := index[a]; ok {
					pairA[i], pairB[j], how[j] = j, i, c.m.valHow[b]
				}
			}
		}
	}
	// An output changes when it is redirected or renamed, or when its producer goes or comes.
	kinds := []string{kindOutputChanged, kindValueRenamed, kindNodeRemoved, kindNodeAdded}
	var out []ValueDiff
	emitRemoved := func(i int) {
		a := as[i]
		vd := ValueDiff{Status: Removed, Index: i, Name: a.Name, OldType: a.Type.String()}
		vd.Explanation = c.ex.explain(subject{graphs: graphs, kinds: kinds, values: []string{a.Name}, nodes: producerNames(a)})
		c.count(Removed, vd.Explanation)
		out = append(out, vd)
	}
	mergeOrder(len(as), len(bs), pairA, pairB, emitRemoved, func(j int) {
		b := bs[j]
		i, matched := pairB[j]
		if !matched {
			vd := ValueDiff{Status: Added, Index: j, Name: b.Name, NewType: b.Type.String()}
			vd.Explanation = c.ex.explain(subject{graphs: graphs, kinds: kinds, values: []string{b.Name}, nodes: producerNames(b)})
			c.count(Added, vd.Explanation)
			out = append(out, vd)
			return
		}
		a := as[i]
		vd := ValueDiff{Status: Unchanged, Index: j, Name: b.Name, NewType: b.Type.String(), MatchedBy: how[j]}
		if a.Name != b.Name {
			vd.OldName = a.Name
		}
		if !a.Type.Equal(b.Type) || a.Name != b.Name {
			vd.OldType = a.Type.String()
		}
		if outputs && !c.m.sameValue(a, b) {
			vd.OldSource, vd.NewSource = sourceOf(a), sourceOf(b)
		}
		if vd.OldName != "" || vd.OldType != "" || vd.OldSource != "" {
			vd.Status = Changed
			vd.Explanation = c.ex.explain(subject{graphs: graphs, kinds: kinds, values: []string{a.Name, b.Name},
				nodes: append(producerNames(a), producerNames(b)...)})
			c.count(Changed, vd.Explanation)
		}
		if c.keep(vd.Status) {
			out = append(out, vd)
		}
	})
	return out
}

// mergeOrder visits B's items in order, each preceded by the unmatched A items that stood
// before the next matched pair, so that a removal shows where it happened and, where B
// replaced items, the removals come before the additions (as in diff(1)).
func mergeOrder(nA, nB int, pairA, pairB map[int]int, removed func(i int), visitB func(j int)) {
	// anchor[j] is the A index of the first matched B item at or after j (nA if none).
	anchor := make([]int, nB+1)
	anchor[nB] = nA
	for j := nB - 1; j >= 0; j-- {
		anchor[j] = anchor[j+1]
		if i, ok := pairB[j]; ok {
			anchor[j] = i
		}
	}
	next := 0 // next A index not yet considered for removal
	for j := 0; j < nB; j++ {
		for ; next < anchor[j]; next++ {
			if _, matched := pairA[next]; !matched {
				removed(next)
			}
		}
		visitB(j)
	}
	for ; next < nA; next++ {
		if _, matched := pairA[next]; !matched {
			removed(next)
		}
	}
}

func producerNames(v *ir.Value) []string {
	if p := v.Producer(); p != nil {
		return []string{p.Name, nodeLabel(p)}
	}
	return nil
}

// sourceOf names what computes a graph output: a node output, an input or an initializer.
func sourceOf(v *ir.Value) string {
	switch {
	case v.Producer() != nil:
		return fmt.Sprintf("%s %s:%d", opKey(v.Producer()), nodeLabel(v.Producer()), v.OutputIndex())
	case v.IsConst():
		return "initializer " + v.Name
	default:
		return "input " + v.Name
	}
}

// nodeLabel names a node: its name, else "%" and its first output's name.
func nodeLabel(n *ir.Node) string {
	if n.Name != "" {
		return n.Name
	}
	for _, v := range n.Outputs() {
		if v != nil {
			return "%" + v.Name
		}
	}
	return fmt.Sprintf("#%d", n.ID())
}

// changelogNames lists how the pass manager may name a node: its name and its first
// output's name (what it uses for unnamed nodes).
func changelogNames(n *ir.Node) []string {
	out := []string{}
	if n.Name != "" {
		out = append(out, n.Name)
	}
	if v := n.Output(0); v != nil {
		out = append(out, v.Name)
	}
	return out
}

func (c *comparer) nodes(gA, gB *ir.Graph, graphs []string) []NodeDiff {
	nodesA, nodesB := gA.Nodes(), gB.Nodes()
	posA := make(map[*ir.Node]int, len(nodesA))
	for i, n := range nodesA {
		posA[n] = i
	}
	pairA, pairB := map[int]int{}, map[int]int{}
	for j, b := range nodesB {
		if a := c.m.nodeBA[b]; a != nil {
			if i, ok := posA[a]; ok {
				pairA[i], pairB[j] = j, i
			}
		}
	}
	var out []NodeDiff
	mergeOrder(len(nodesA), len(nodesB), pairA, pairB, func(i int) {
		a := nodesA[i]
		nd := NodeDiff{Status: Removed, Name: nodeLabel(a), Op: opKey(a), a: a}
		nd.Explanation = c.ex.explain(subject{graphs: graphs, kinds: []string{kindNodeRemoved},
			nodes: changelogNames(a), values: outputNames(a)})
		c.count(Removed, nd.Explanation)
		markAll(c.d.statusA, a, Removed)
		out = append(out, nd)
	}, func(j int) {
		b := nodesB[j]
		a := c.m.nodeBA[b]
		if a == nil || posA[a] != pairB[j] {
			nd := NodeDiff{Status: Added, Name: nodeLabel(b), Op: opKey(b), b: b}
			nd.Explanation = c.ex.explain(subject{graphs: graphs, kinds: []string{kindNodeAdded},
				nodes: changelogNames(b), values: outputNames(b)})
			c.count(Added, nd.Explanation)
			markAll(c.d.statusB, b, Added)
			out = append(out, nd)
			return
		}
		nd := c.node(a, b, graphs)
		c.d.statusA[a], c.d.statusB[b] = nd.Status, nd.Status
		if c.keep(nd.Status) {
			out = append(out, nd)
		}
	})
	return out
}

func outputNames(n *ir.Node) []string {
	var out []string
	for _, v := range n.Outputs() {
		if v != nil {
			out = append(out, v.Name)
		}
	}
	return out
}

// markAll records status for n and every node of its subgraphs.
func markAll(status map[*ir.Node]Status, n *ir.Node, s Status) {
	status[n] = s
	for _, g := range n.Subgraphs() {
		for _, m := range g.Nodes() {
			markAll(status, m, s)
		}
	}
}

// node compares a matched pair.
func (c *comparer) node(a, b *ir.Node, graphs []string) NodeDiff {
	nd := NodeDiff{Status: Unchanged, Name: nodeLabel(b), Op: opKey(b), MatchedBy: c.m.nodeHow[b], a: a, b: b}
	if a.Name != b.Name {
		// Unnamed nodes are labelled by their first output, whose renaming Outputs reports.
		nd.OldName = nodeLabel(a)
	}
	if op := opKey(a); op != nd.Op || a.Overload != b.Overload {
		nd.OldOp = op
		if a.Overload != b.Overload {
			nd.OldOp += " overload " + strconv.Quote(a.Overload)
		}
	}
	nd.Attributes = attrChanges(a, b)
	for i := 0; i < max(len(a.Inputs()), len(b.Inputs())); i++ {
		va, vb := a.Input(i), b.Input(i)
		if !c.m.sameValue(va, vb) {
			ec := EdgeChange{Index: i, Old: valueName(va), New: valueName(vb)}
			if va != nil && vb != nil && va.Name == vb.Name {
				// Same name, another value (a folded Constant's output is now an
				// initializer): say what computes each.
				ec.OldSource, ec.NewSource = sourceOf(va), sourceOf(vb)
			}
			nd.Inputs = append(nd.Inputs, ec)
		}
	}
	for i := 0; i < max(len(a.Outputs()), len(b.Outputs())); i++ {
		if na, nb := valueName(a.Output(i)), valueName(b.Output(i)); na != nb {
			nd.Outputs = append(nd.Outputs, EdgeChange{Index: i, Old: na, New: nb})
		}
	}
	own := nd.OldName != "" || nd.OldOp != "" || len(nd.Attributes) > 0 || len(nd.Inputs) > 0 || len(nd.Outputs) > 0
	inner := false
	for _, p := range pairSubgraphs(a, b) {
		gd := c.graph(p.a, p.b)
		gd.Attribute = p.attr
		if gd.differs() {
			inner = true
		}
		if gd.differs() || c.all {
			nd.Subgraphs = append(nd.Subgraphs, gd)
		}
	}
	if own {
		nd.Status = Changed
		var values []string
		for _, v := range append(append([]*ir.Value{}, a.Inputs()...), b.Inputs()...) {
			if v != nil {
				values = append(values, v.Name)
			}
		}
		values = append(append(values, outputNames(a)...), outputNames(b)...)
		nd.Explanation = c.ex.explain(subject{graphs: graphs,
			kinds:  []string{kindNodeChanged, kindInputRewired, kindValueRenamed, kindOutputChanged},
			nodes:  append(changelogNames(a), changelogNames(b)...),
			values: values})
		c.count(Changed, nd.Explanation)
	} else if inner {
		// Only the bodies differ: their items carry the explanations and the counts.
		nd.Status = Changed
	}
	return nd
}

// differs reports whether any item of the graph differs.
func (gd *GraphDiff) differs() bool {
	if gd.OldName != "" {
		return true
	}
	for _, v := range gd.Inputs {
		if v.Status != Unchanged {
			return true
		}
	}
	for _, v := range gd.Outputs {
		if v.Status != Unchanged {
			return true
		}
	}
	for _, v := range gd.Initializers {
		if v.Status != Unchanged {
			return true
		}
	}
	for _, v := range gd.Nodes {
		if v.Status != Unchanged {
			return true
		}
	}
	return false
}

func valueName(v *ir.Value) string {
	if v == nil {
		return ""
	}
	return v.Name
}

// attrChanges compares attributes by name, in B's order then A's removed ones. Graph
// attributes are compared through their subgraphs, not here.
func attrChanges(a, b *ir.Node) []AttrChange {
	var out []AttrChange
	for _, ab := range b.Attrs {
		aa := a.Attr(ab.Name)
		switch {
		case aa == nil:
			out = append(out, AttrChange{Name: ab.Name, Status: Added, New: ab.ValueString()})
		case len(ab.Subgraphs()) > 0 && len(aa.Subgraphs()) == len(ab.Subgraphs()):
			// compared as subgraphs
		default:
			if oldV, newV := aa.ValueString(), ab.ValueString(); oldV != newV || aa.Type != ab.Type {
				out = append(out, AttrChange{Name: ab.Name, Status: Changed, Old: oldV, New: newV})
			}
		}
	}
	for _, aa := range a.Attrs {
		if b.Attr(aa.Name) == nil {
			out = append(out, AttrChange{Name: aa.Name, Status: Removed, Old: aa.ValueString()})
		}
	}
	return out
}
