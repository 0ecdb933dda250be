package ir

import (
	"errors"
	"fmt"
	"strings"
)

// Verify checks every invariant of the model's IR and returns all violations, each naming
// the graph, node and value concerned:
//   - each node belongs to the graph that lists it, and each node and value ID is unique;
//   - both sides of every edge agree: an input's use list holds the (node, index) that
//     reads it exactly once, every listed use is really an input of a live node, and every
//     output's producer and index point back at its node;
//   - values are read only where visible (their own graph or an enclosing one) and, within
//     a graph, after they are defined (topological order);
//   - names are defined once per graph and not empty;
//   - graph outputs are visible values; initializers hold data of the size their dims imply;
//   - subgraphs record their owner node and parent graph.
func (m *Model) Verify() error {
	v := newVerifier()
	if m.Graph == nil {
		return errors.New("model has no graph")
	}
	main := v.graph(m.Graph, (*place)(nil).in("graph "+quote(m.Graph.Name)), nil)
	for _, f := range m.Functions {
		v.graph(f.Body, (*place)(nil).in(fmt.Sprintf("function %s::%s", f.Domain, f.Name)), nil)
	}
	for i, ti := range m.TrainingInfo {
		if ti.Initialization != nil {
			v.graph(ti.Initialization, (*place)(nil).in(fmt.Sprintf("training_info[%d].initialization", i)), main)
		}
		if ti.Algorithm != nil {
			v.graph(ti.Algorithm, (*place)(nil).in(fmt.Sprintf("training_info[%d].algorithm", i)), main)
		}
	}
	return errors.Join(v.errs...)
}

// Verify checks the invariants of one graph and its subgraphs (see Model.Verify).
func (g *Graph) Verify() error {
	v := newVerifier()
	v.graph(g, (*place)(nil).in("graph "+quote(g.Name)), nil)
	return errors.Join(v.errs...)
}

type verifier struct {
	errs   []error
	values map[int]*Value
	nodes  map[int]*Node
	// open maps each graph on the path being verified to its scope, so that finding the
	// scope of a value's graph costs one lookup however deep subgraphs nest.
	open map[*Graph]*vscope
	// useCount counts, per value whose use list has been indexed, how often it lists each
	// (node, index): indexing each list once keeps the edge check linear in the edges.
	useCount map[*Value]map[Use]int
}

func newVerifier() *verifier {
	return &verifier{values: map[int]*Value{}, nodes: map[int]*Node{}, open: map[*Graph]*vscope{}, useCount: map[*Value]map[Use]int{}}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// place is where a problem is, as a chain of fragments rendered only when a problem is
// reported: building the text at every level would cost time quadratic in the nesting
// depth of subgraphs.
type place struct {
	parent *place
	text   string
	node   *Node // when set, the fragment is ": " + node.Describe()
}

func (p *place) in(text string) *place { return &place{parent: p, text: text} }

func (p *place) at(n *Node) *place { return &place{parent: p, node: n} }

func (p *place) String() string {
	var parts []string
	for q := p; q != nil; q = q.parent {
		if q.node != nil {
			parts = append(parts, ": "+q.node.Describe())
		} else {
			parts = append(parts, q.text)
		}
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
	}
	return b.String()
}

func (v *verifier) fail(where *place, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
}

func (v *verifier) value(val *Value, where *place) {
	if other, ok := v.values[val.id]; ok && other != val {
		v.fail(where, "value ID %d is shared by %q and %q", val.id, other.Name, val.Name)
	}
	v.values[val.id] = val
}

// usesOf returns how many times val's use list holds each (node, index).
func (v *verifier) usesOf(val *Value) map[Use]int {
	c, ok := v.useCount[val]
	if !ok {
		c = make(map[Use]int, len(val.uses))
		for _, u := range val.uses {
			c[u]++
		}
		v.useCount[val] = c
	}
	return c
}

// visible reports whether val may be read in g: it belongs to g or an enclosing graph.
func visible(val *Value, g *Graph) bool {
	for s := g; s != nil; s = s.parent {
		if val.graph == s {
			return true
		}
	}
	return false
}

// vscope is what a graph being verified has defined so far; a subgraph is verified when its
// owner node is reached, so its enclosing scopes hold exactly the values defined before it.
type vscope struct {
	graph   *Graph
	defined map[*Value]bool
	parent  *vscope
}

// has reports whether val belongs to a graph on the path being verified, and whether it
// has been defined there yet.
func (v *verifier) has(val *Value) (known, defined bool) {
	if s := v.open[val.graph]; s != nil {
		return true, s.defined[val]
	}
	return false, false
}

func (v *verifier) graph(g *Graph, where *place, outer *vscope) *vscope {
	if v.open[g] != nil {
		v.fail(where, "graph is nested inside itself")
		return v.open[g]
	}
	defined := map[*Value]bool{}
	sc := &vscope{graph: g, defined: defined, parent: outer}
	// The open scopes are outer's chain: a training graph is verified against the main
	// graph's scope after the main graph's own walk has closed its subgraphs.
	saved := v.open
	if outer == nil || v.open[outer.graph] != outer {
		v.open = map[*Graph]*vscope{}
		for s := outer; s != nil; s = s.parent {
			v.open[s.graph] = s
		}
	}
	v.open[g] = sc
	defer func() {
		delete(v.open, g)
		v.open = saved
	}()
	names := map[string]*Value{}
	define := func(val *Value, what string) {
		if val.Name == "" {
			v.fail(where, "%s with ID %d has no name", what, val.id)
		} else if prev, ok := names[val.Name]; ok && prev != val {
			v.fail(where, "%s %q is defined twice", what, val.Name)
		}
		names[val.Name] = val
		defined[val] = true
		v.value(val, where)
		if val.graph != g {
			v.fail(where, "%s %q belongs to another graph", what, val.Name)
		}
	}
	for _, in := range g.Inputs {
		if in == nil {
			v.fail(where, "nil graph input")
			continue
		}
		if in.producer != nil {
			v.fail(where, "input %q has a producer, %s", in.Name, in.producer.Describe())
		}
		define(in, "input")
	}
	for _, init := range g.Initializers {
		if init == nil {
			v.fail(where, "nil initializer")
			continue
		}
		if init.producer != nil {
			v.fail(where, "initializer %q has a producer, %s", init.Name, init.producer.Describe())
		}
		if init.Const == nil && init.SparseConst == nil {
			v.fail(where, "initializer %q holds no tensor", init.Name)
		}
		if t := init.Const; t != nil && t.External == nil && t.DataType != String {
			if n, err := t.NumElements(); err != nil {
				v.fail(where, "initializer %q: %v", init.Name, err)
			} else if want, err := t.DataType.ByteSize(n); err != nil {
				v.fail(where, "initializer %q: %v", init.Name, err)
			} else if int64(len(t.Raw)) != want {
				v.fail(where, "initializer %q (%s%v) holds %d bytes, want %d", init.Name, t.DataType, t.Dims, len(t.Raw), want)
			}
		}
		if !defined[init] {
			define(init, "initializer")
		}
	}
	for _, n := range g.Nodes() {
		nw := where.at(n)
		if n.removed {
			v.fail(nw, "removed node is still listed")
		}
		if n.graph != g {
			v.fail(nw, "node belongs to another graph")
		}
		if other, ok := v.nodes[n.id]; ok && other != n {
			v.fail(nw, "node ID %d is shared with %s", n.id, other.Describe())
		}
		v.nodes[n.id] = n
		for i, in := range n.inputs {
			if in == nil {
				continue
			}
			if count := v.usesOf(in)[Use{n, i}]; count != 1 {
				v.fail(nw, "input %d %q lists this use %d times", i, in.Name, count)
			}
			known, before := v.has(in)
			switch {
			case !known && !visible(in, g):
				v.fail(nw, "input %d %q is not visible in this graph", i, in.Name)
			case in.graph != g && known && !before:
				v.fail(nw, "input %d %q of an enclosing graph is defined after the node holding this subgraph", i, in.Name)
			case in.graph == g && !defined[in]:
				if in.producer != nil && in.producer.graph == g && !in.producer.removed {
					v.fail(nw, "input %d %q is read before %s defines it (not in topological order)", i, in.Name, in.producer.Describe())
				} else {
					v.fail(nw, "input %d %q is not defined in this graph", i, in.Name)
				}
			}
		}
		for _, a := range n.Attrs {
			for _, sub := range a.Subgraphs() {
				if sub.owner != n || sub.parent != g {
					v.fail(nw, "subgraph %q of attribute %q does not record this node as its owner", sub.Name, a.Name)
				}
				if sub.ids != g.ids {
					v.fail(nw, "subgraph %q of attribute %q does not share the model's ID space", sub.Name, a.Name)
				}
				v.graph(sub, nw.in(" / attribute "+a.Name+" graph "+quote(sub.Name)), sc)
			}
		}
		for i, out := range n.outputs {
			if out == nil {
				continue
			}
			if out.producer != n || out.outIndex != i {
				v.fail(nw, "output %d %q does not point back at its producer", i, out.Name)
			}
			define(out, "value")
		}
	}
	for _, val := range allDefined(g) {
		for _, u := range val.uses {
			if u.Node == nil || u.Node.removed {
				v.fail(where, "value %q lists a use by a removed node", val.Name)
				continue
			}
			if u.Index < 0 || u.Index >= len(u.Node.inputs) || u.Node.inputs[u.Index] != val {
				v.fail(where, "value %q lists a use by %s input %d that reads something else", val.Name, u.Node.Describe(), u.Index)
			}
		}
	}
	for i, out := range g.Outputs {
		if out == nil {
			v.fail(where, "output %d is nil", i)
			continue
		}
		if known, _ := v.has(out); !known && !visible(out, g) {
			v.fail(where, "output %d %q is not visible in this graph", i, out.Name)
		} else if out.graph == g && !defined[out] {
			v.fail(where, "output %d %q is not defined", i, out.Name)
		}
	}
	return sc
}

// allDefined lists the values a graph defines: inputs, initializers and node outputs.
func allDefined(g *Graph) []*Value {
	var out []*Value
	out = append(out, g.Inputs...)
	out = append(out, g.Initializers...)
	for _, n := range g.Nodes() {
		for _, v := range n.outputs {
			if v != nil {
				out = append(out, v)
			}
		}
	}
	return out
}
