package irdiff

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/whittle-ml/whittle/ir"
)

// Fill colours of the DOT form.
var dotFill = map[Status]string{
	Added:     "#a8e6a1",
	Removed:   "#f4a3a3",
	Changed:   "#ffe08a",
	Unchanged: "#e4e4e4",
}

// WriteDOT renders both models for Graphviz (dot -Tsvg): A and B side by side as two
// clusters, subgraphs as nested clusters, nodes filled green (added), red (removed),
// yellow (changed) or grey (unchanged). Graph inputs and outputs are ellipses;
// initializers are drawn only when they differ (all of them with Options.All). Edges carry
// the tensor's type and shape when known, and rewired inputs are drawn bold orange.
func (d *Diff) WriteDOT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	r := &dotWriter{w: bw, d: d}
	fmt.Fprintln(bw, "digraph whittle_diff {")
	fmt.Fprintln(bw, `  graph [fontname="Helvetica", fontsize=11, rankdir=TB, newrank=true, labelloc=t,`)
	fmt.Fprintln(bw, `         label="whittle diff: green added, red removed, yellow changed, grey unchanged"];`)
	fmt.Fprintln(bw, `  node [fontname="Helvetica", fontsize=10, shape=box, style="rounded,filled"];`)
	fmt.Fprintln(bw, `  edge [fontname="Helvetica", fontsize=8, color="#555555"];`)
	r.side = sideA
	r.cluster("a", "A: "+orDefault(d.A.Label, "a"), d.a.Graph, 1)
	r.side = sideB
	r.cluster("b", "B: "+orDefault(d.B.Label, "b"), d.b.Graph, 1)
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}

type side int

const (
	sideA side = iota
	sideB
)

type dotWriter struct {
	w    *bufio.Writer
	d    *Diff
	side side
	// drawn holds the DOT ids of values drawn as their own shape (inputs, initializers).
	drawn map[*ir.Value]string
}

func (r *dotWriter) prefix() string {
	if r.side == sideA {
		return "a"
	}
	return "b"
}

func (r *dotWriter) nodeID(n *ir.Node) string   { return fmt.Sprintf("%s_n%d", r.prefix(), n.ID()) }
func (r *dotWriter) valueID(v *ir.Value) string { return fmt.Sprintf("%s_v%d", r.prefix(), v.ID()) }

func (r *dotWriter) printf(depth int, format string, args ...any) {
	r.w.WriteString(strings.Repeat("  ", depth))
	fmt.Fprintf(r.w, format, args...)
	r.w.WriteByte('\n')
}

// cluster writes graph g (and, nested, its subgraphs) as a cluster.
func (r *dotWriter) cluster(id, label string, g *ir.Graph, depth int) {
	if r.drawn == nil {
		r.drawn = map[*ir.Value]string{}
	}
	r.printf(depth, "subgraph cluster_%s {", id)
	r.printf(depth+1, "label=%s; style=rounded; color=\"#999999\";", dotQuote(label))
	for _, v := range graphInputs(g) {
		r.drawn[v] = r.valueID(v)
		r.printf(depth+1, "%s [label=%s, shape=ellipse, fillcolor=%q];", r.valueID(v), dotQuote(v.Name), dotFill[r.valueStatus(v, false)])
	}
	for _, v := range g.Initializers {
		s := r.valueStatus(v, true)
		if s == Unchanged && !r.d.all {
			continue
		}
		r.drawn[v] = r.valueID(v)
		r.printf(depth+1, "%s [label=%s, shape=note, fillcolor=%q];", r.valueID(v), dotQuote(v.Name+"\n"+constType(v)), dotFill[s])
	}
	for _, n := range g.Nodes() {
		label := n.OpType
		if n.Domain != "" {
			label = n.Domain + "::" + label
		}
		if name := nodeLabel(n); name != "" {
			label = name + "\n" + label
		}
		r.printf(depth+1, "%s [label=%s, fillcolor=%q];", r.nodeID(n), dotQuote(label), dotFill[r.nodeStatus(n)])
	}
	for k, n := range g.Nodes() {
		for i, sub := range n.Subgraphs() {
			r.cluster(fmt.Sprintf("%s_%d_%d", id, k, i), nodeLabel(n)+" / "+sub.Name, sub, depth+1)
		}
	}
	for _, n := range g.Nodes() {
		rewired := r.rewiredInputs(n)
		for i, v := range n.Inputs() {
			if v == nil {
				continue
			}
			src := r.source(v)
			if src == "" {
				continue
			}
			attrs := r.edgeLabel(v)
			if rewired[i] {
				attrs = append(attrs, `color="#e07000"`, "penwidth=2")
			}
			r.printf(depth+1, "%s -> %s%s;", src, r.nodeID(n), attrList(attrs))
		}
	}
	for i, v := range g.Outputs {
		out := fmt.Sprintf("%s_out%d", id, i)
		r.printf(depth+1, "%s [label=%s, shape=ellipse, fillcolor=%q];", out, dotQuote(v.Name), dotFill[r.outputStatus(g, i)])
		if src := r.source(v); src != "" {
			r.printf(depth+1, "%s -> %s%s;", src, out, attrList(r.edgeLabel(v)))
		}
	}
	r.printf(depth, "}")
}

// source is the DOT id of what defines v: its producer node or its drawn input or
// initializer shape; "" when v is not drawn (an unchanged initializer).
func (r *dotWriter) source(v *ir.Value) string {
	if p := v.Producer(); p != nil {
		return r.nodeID(p)
	}
	return r.drawn[v]
}

func (r *dotWriter) edgeLabel(v *ir.Value) []string {
	t := v.Type
	types := r.d.typesA
	if r.side == sideB {
		types = r.d.typesB
	}
	if inferred, ok := types[v.ID()]; ok && inferred != nil {
		t = inferred
	}
	if t == nil || (t.Kind == ir.TensorKind && !t.HasShape) {
		return nil
	}
	return []string{"label=" + dotQuote(t.String())}
}

func attrList(attrs []string) string {
	if len(attrs) == 0 {
		return ""
	}
	return " [" + strings.Join(attrs, ", ") + "]"
}

func (r *dotWriter) nodeStatus(n *ir.Node) Status {
	status := r.d.statusA
	if r.side == sideB {
		status = r.d.statusB
	}
	if s, ok := status[n]; ok {
		return s
	}
	// Not reached by the comparison (a subgraph under a node with a mismatched attribute).
	if r.side == sideA {
		return Removed
	}
	return Added
}

// valueStatus says how a graph input or initializer of the drawn side compares.
func (r *dotWriter) valueStatus(v *ir.Value, constant bool) Status {
	var other *ir.Value
	if r.side == sideA {
		other = r.d.match.valAB[v]
	} else {
		other = r.d.match.valBA[v]
	}
	switch {
	case other == nil && r.side == sideA:
		return Removed
	case other == nil:
		return Added
	case other.Name != v.Name || !other.Type.Equal(v.Type):
		return Changed
	case constant && dataKey(other) != dataKey(v):
		return Changed
	}
	return Unchanged
}

// outputStatus compares output i of g with its counterpart, as GraphDiff does: by name,
// then position.
func (r *dotWriter) outputStatus(g *ir.Graph, i int) Status {
	var otherGraph *ir.Graph
	if r.side == sideA {
		otherGraph = r.d.match.subgraphs[g]
	} else {
		for ga, gb := range r.d.match.subgraphs {
			if gb == g {
				otherGraph = ga
			}
		}
	}
	if otherGraph == nil {
		if r.side == sideA {
			return Removed
		}
		return Added
	}
	v := g.Outputs[i]
	var other *ir.Value
	for _, o := range otherGraph.Outputs {
		if o.Name == v.Name {
			other = o
		}
	}
	if other == nil && i < len(otherGraph.Outputs) {
		other = otherGraph.Outputs[i]
	}
	switch {
	case other == nil && r.side == sideA:
		return Removed
	case other == nil:
		return Added
	case other.Name != v.Name || !other.Type.Equal(v.Type):
		return Changed
	}
	a, b := v, other
	if r.side == sideB {
		a, b = other, v
	}
	if !r.d.match.sameValue(a, b) {
		return Changed
	}
	return Unchanged
}

// rewiredInputs marks the inputs of a matched node that read another value than its
// counterpart's.
func (r *dotWriter) rewiredInputs(n *ir.Node) map[int]bool {
	var a, b *ir.Node
	if r.side == sideA {
		a, b = n, r.d.match.nodeAB[n]
	} else {
		a, b = r.d.match.nodeBA[n], n
	}
	if a == nil || b == nil {
		return nil
	}
	out := map[int]bool{}
	for i := range n.Inputs() {
		if !r.d.match.sameValue(a.Input(i), b.Input(i)) {
			out[i] = true
		}
	}
	return out
}

// dotQuote makes a DOT string; a newline becomes DOT's centred line break.
func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
