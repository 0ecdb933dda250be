package report

import (
	"fmt"
	"html"
	"sort"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/irdiff"
)

// Diff is what changed from the base to a variant, as the page shows it.
type Diff struct {
	// Pipelines are the whittle pipelines recorded in the variant, oldest first.
	Pipelines []string
	Summary   irdiff.Summary
	Totals    irdiff.Totals
	// ByPass counts the differences each pass of the change log explains.
	ByPass []PassCount
	// Changes lists node and initializer differences (at most maxChanges).
	Changes []ChangeRow
	// More counts the differences left out of Changes.
	More int
	// Before and After draw the changed region of each graph: the changed nodes and their
	// neighbours, as inline SVG.
	Before, After Drawing
}

// PassCount is one pass and the differences attributed to it.
type PassCount struct {
	Pass                    string
	Added, Removed, Changed int
}

// ChangeRow is one difference.
type ChangeRow struct {
	Status irdiff.Status
	// Kind is "node" or "initializer".
	Kind, Name, Op, Detail, By string
}

const maxChanges = 200

func newDiff(d *irdiff.Diff, a, b *ir.Model) *Diff {
	out := &Diff{Pipelines: d.Pipelines, Summary: d.Summary, Totals: d.Totals}
	byPass := map[string]*PassCount{}
	count := func(status irdiff.Status, by []string) {
		for _, p := range by {
			if p == "" {
				continue
			}
			pc := byPass[p]
			if pc == nil {
				pc = &PassCount{Pass: p}
				byPass[p] = pc
			}
			switch status {
			case irdiff.Added:
				pc.Added++
			case irdiff.Removed:
				pc.Removed++
			default:
				pc.Changed++
			}
		}
	}
	add := func(row ChangeRow, by []string) {
		count(row.Status, by)
		row.By = strings.Join(by, ", ")
		if len(out.Changes) < maxChanges {
			out.Changes = append(out.Changes, row)
		} else {
			out.More++
		}
	}
	statusA, statusB := map[string]irdiff.Status{}, map[string]irdiff.Status{}
	if g := d.Graph; g != nil {
		for _, n := range g.Nodes {
			if n.Status == irdiff.Unchanged {
				continue
			}
			detail := ""
			if n.OldOp != "" {
				detail = n.OldOp + " → " + n.Op
			}
			var attrs []string
			for _, at := range n.Attributes {
				attrs = append(attrs, at.Name)
			}
			if len(attrs) > 0 {
				detail = strings.TrimSpace(detail + " attributes " + strings.Join(attrs, ", "))
			}
			if len(n.Inputs) > 0 {
				detail = strings.TrimSpace(fmt.Sprintf("%s %d input(s) rewired", detail, len(n.Inputs)))
			}
			add(ChangeRow{Status: n.Status, Kind: "node", Name: n.Name, Op: n.Op, Detail: detail}, n.By)
			switch n.Status {
			case irdiff.Removed:
				statusA[n.Name] = n.Status
			case irdiff.Added:
				statusB[n.Name] = n.Status
			default:
				statusB[n.Name] = n.Status
				old := n.OldName
				if old == "" {
					old = n.Name
				}
				statusA[old] = n.Status
			}
		}
		for _, in := range g.Initializers {
			if in.Status == irdiff.Unchanged {
				continue
			}
			detail := in.OldType
			if in.NewType != "" && in.NewType != in.OldType {
				detail = strings.TrimSpace(detail + " → " + in.NewType)
			}
			if in.DataChanged && in.Status == irdiff.Changed {
				detail = strings.TrimSpace(detail + " data changed")
			}
			add(ChangeRow{Status: in.Status, Kind: "initializer", Name: in.Name, Detail: detail}, in.By)
			// The nodes reading a changed weight are drawn as changed (a pruned layer).
			old := in.OldName
			if old == "" {
				old = in.Name
			}
			markReaders(a.Graph, old, statusA)
			markReaders(b.Graph, in.Name, statusB)
		}
	}
	for _, pc := range byPass {
		out.ByPass = append(out.ByPass, *pc)
	}
	sort.Slice(out.ByPass, func(i, j int) bool { return out.ByPass[i].Pass < out.ByPass[j].Pass })
	out.Before = drawRegion(a.Graph, statusA, "before")
	out.After = drawRegion(b.Graph, statusB, "after")
	return out
}

// markReaders marks the nodes of g reading the value called name as changed, unless they
// have a status already.
func markReaders(g *ir.Graph, name string, status map[string]irdiff.Status) {
	v := g.Lookup(name)
	if v == nil {
		return
	}
	for _, u := range v.Uses() {
		if _, ok := status[nodeKey(u.Node)]; !ok {
			status[nodeKey(u.Node)] = irdiff.Changed
		}
	}
}

// Drawing is an SVG picture of part of a graph.
type Drawing struct {
	SVG string
	// Nodes counts the boxes drawn; Hidden the changed nodes left out for space.
	Nodes, Hidden int
}

// nodeKey names a node as irdiff does: its name, else "%" and its first output's name.
func nodeKey(n *ir.Node) string {
	if n.Name != "" {
		return n.Name
	}
	if out := n.Output(0); out != nil {
		return "%" + out.Name
	}
	return n.OpType
}

// maxDrawn bounds the boxes of one drawing, so a pipeline that touched every node still
// gives a readable picture.
const maxDrawn = 48

// drawRegion draws the nodes of g whose key has a status, with the nodes that feed them and
// read them in grey, in layers by dependency depth (top to bottom, like Netron).
func drawRegion(g *ir.Graph, status map[string]irdiff.Status, id string) Drawing {
	nodes := g.Nodes()
	core := map[*ir.Node]bool{}
	var coreOrder []*ir.Node
	for _, n := range nodes {
		if _, ok := status[nodeKey(n)]; ok {
			core[n] = true
			coreOrder = append(coreOrder, n)
		}
	}
	d := Drawing{}
	if len(coreOrder) == 0 {
		return d
	}
	if len(coreOrder) > maxDrawn*2/3 {
		d.Hidden = len(coreOrder) - maxDrawn*2/3
		for _, n := range coreOrder[maxDrawn*2/3:] {
			delete(core, n)
		}
	}
	region := map[*ir.Node]bool{}
	for n := range core {
		region[n] = true
	}
	for _, n := range nodes {
		if !core[n] {
			continue
		}
		for _, v := range n.Inputs() {
			if v != nil && v.Producer() != nil && len(region) < maxDrawn {
				region[v.Producer()] = true
			}
		}
		for _, v := range n.Outputs() {
			if v == nil {
				continue
			}
			for _, u := range v.Uses() {
				if len(region) < maxDrawn {
					region[u.Node] = true
				}
			}
		}
	}
	var order []*ir.Node
	for _, n := range nodes {
		if region[n] {
			order = append(order, n)
		}
	}
	// Depth: one more than the deepest drawn producer (node order is topological). Nodes
	// with no drawn producer (a weight's DequantizeLinear) then move down to just above
	// their first drawn reader, so they sit beside the layer they feed.
	depth := map[*ir.Node]int{}
	source := map[*ir.Node]bool{}
	for _, n := range order {
		dep, fed := 0, false
		for _, v := range n.Inputs() {
			if v != nil && v.Producer() != nil && region[v.Producer()] {
				dep, fed = max(dep, depth[v.Producer()]+1), true
			}
		}
		depth[n], source[n] = dep, !fed
	}
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if !source[n] {
			continue
		}
		lowest := -1
		for _, v := range n.Outputs() {
			if v == nil {
				continue
			}
			for _, u := range v.Uses() {
				if region[u.Node] && (lowest < 0 || depth[u.Node] < lowest) {
					lowest = depth[u.Node]
				}
			}
		}
		if lowest > 0 {
			depth[n] = lowest - 1
		}
	}
	rows := map[int][]*ir.Node{}
	maxRow, maxCols := 0, 0
	for _, n := range order {
		dep := depth[n]
		rows[dep] = append(rows[dep], n)
		maxRow = max(maxRow, dep)
		maxCols = max(maxCols, len(rows[dep]))
	}
	const boxW, boxH, gapX, gapY, pad = 180, 38, 24, 30, 10
	width := pad*2 + maxCols*boxW + (maxCols-1)*gapX
	height := pad*2 + (maxRow+1)*boxH + maxRow*gapY
	type pos struct{ x, y int }
	at := map[*ir.Node]pos{}
	for r := 0; r <= maxRow; r++ {
		row := rows[r]
		rowW := len(row)*boxW + (len(row)-1)*gapX
		x0 := (width - rowW) / 2
		for i, n := range row {
			at[n] = pos{x0 + i*(boxW+gapX), pad + r*(boxH+gapY)}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="graph" id="graph-%s" data-nodes="%d" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`,
		id, len(order), width, height, width, height)
	fmt.Fprintf(&b, `<defs><marker id="arrow-%s" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#777"/></marker></defs>`, id)
	for _, n := range order {
		for _, v := range n.Inputs() {
			if v == nil || !region[v.Producer()] || v.Producer() == nil {
				continue
			}
			p, q := at[v.Producer()], at[n]
			x1, y1, x2, y2 := p.x+boxW/2, p.y+boxH, q.x+boxW/2, q.y
			fmt.Fprintf(&b, `<path d="M%d,%d C%d,%d %d,%d %d,%d" fill="none" stroke="#777" stroke-width="1.2" marker-end="url(#arrow-%s)"/>`,
				x1, y1, x1, (y1+y2)/2, x2, (y1+y2)/2, x2, y2-1, id)
		}
	}
	colours := map[irdiff.Status][2]string{
		irdiff.Added:   {"#2e7d32", "#e8f5e9"},
		irdiff.Removed: {"#c62828", "#ffebee"},
		irdiff.Changed: {"#ef6c00", "#fff3e0"},
	}
	for _, n := range order {
		p := at[n]
		st, ok := status[nodeKey(n)]
		c, coloured := colours[st]
		if !ok || !coloured {
			c = [2]string{"#9e9e9e", "#fafafa"}
		}
		label := string(st)
		if !ok {
			label = "context"
		}
		fmt.Fprintf(&b, `<g class="node %s" data-status="%s"><title>%s (%s): %s</title>`, html.EscapeString(label), html.EscapeString(label),
			html.EscapeString(nodeKey(n)), html.EscapeString(n.OpType), html.EscapeString(label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="5" fill="%s" stroke="%s" stroke-width="1.5"/>`, p.x, p.y, boxW, boxH, c[1], c[0])
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="12" font-weight="bold" fill="%s">%s</text>`, p.x+boxW/2, p.y+15, c[0], html.EscapeString(n.OpType))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="10" fill="#444">%s</text></g>`, p.x+boxW/2, p.y+30, html.EscapeString(shorten(nodeKey(n), 28)))
	}
	b.WriteString(`</svg>`)
	d.SVG, d.Nodes = b.String(), len(order)
	return d
}

// shorten keeps the end of a long name, where exporters put the distinguishing part.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}
