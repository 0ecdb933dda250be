package ir

import "strconv"

// Names hands out names that are not taken yet: the hint itself when it is free, else
// hint_1, hint_2, ... (the first free one). It is how every rewrite names the values and
// nodes it adds, so that names stay readable and stable from run to run.
type Names struct{ taken map[string]bool }

// NewNames returns a Names with the given names already taken.
func NewNames(taken ...string) *Names {
	n := &Names{taken: make(map[string]bool, len(taken))}
	for _, s := range taken {
		n.taken[s] = true
	}
	return n
}

// ValueNames returns a Names holding every value name of m: graph inputs, initializers and
// node outputs of every graph, subgraphs included (a subgraph may read an outer name, so
// one set serves them all).
func ValueNames(m *Model) *Names {
	n := NewNames()
	for _, g := range m.Graphs() {
		for _, v := range g.Inputs {
			n.Take(v.Name)
		}
		for _, v := range g.Initializers {
			n.Take(v.Name)
		}
		for _, nd := range g.Nodes() {
			for _, v := range nd.Outputs() {
				if v != nil {
					n.Take(v.Name)
				}
			}
		}
	}
	return n
}

// NodeNames returns a Names holding the node names of g (not of its subgraphs).
func NodeNames(g *Graph) *Names {
	n := NewNames()
	for _, nd := range g.Nodes() {
		if nd.Name != "" {
			n.Take(nd.Name)
		}
	}
	return n
}

// Take marks name as taken.
func (n *Names) Take(name string) { n.taken[name] = true }

// Taken reports whether name is taken.
func (n *Names) Taken(name string) bool { return n.taken[name] }

// Fresh returns hint, or hint_K for the smallest K that is free, and marks it taken.
func (n *Names) Fresh(hint string) string {
	name := hint
	for i := 1; n.taken[name]; i++ {
		name = hint + "_" + strconv.Itoa(i)
	}
	n.taken[name] = true
	return name
}
