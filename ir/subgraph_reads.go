package ir

// SubgraphReads finds, for every node of g and of its subgraphs that holds subgraphs, the
// values of the node's own graph that its subgraphs read at any depth, each once: hidden
// inputs of the node, which must be computed before it runs and kept alive until it has
// run. One walk over the whole graph tree attributes each read to the holder node at the
// level where the value is defined, so the cost is linear in the model's size however
// deeply subgraphs nest (collecting every subgraph's free values instead would copy them
// once per level).
func SubgraphReads(g *Graph) map[*Node][]*Value {
	w := &readWalk{holder: map[*Graph]*Node{}, reads: map[*Node][]*Value{}, seen: map[readKey]bool{}}
	w.graph(g)
	return w.reads
}

type readWalk struct {
	// holder maps each graph on the current path to the node of it being walked, whose
	// subgraphs hold the current position.
	holder map[*Graph]*Node
	reads  map[*Node][]*Value
	seen   map[readKey]bool
}

type readKey struct {
	n *Node
	v *Value
}

func (w *readWalk) graph(g *Graph) {
	if _, open := w.holder[g]; open {
		return // a graph nested in itself; the IR verifier reports it
	}
	w.holder[g] = nil
	defer delete(w.holder, g)
	for _, n := range g.Nodes() {
		for _, v := range n.Inputs() {
			w.read(v, g)
		}
		w.holder[g] = n
		for _, a := range n.Attrs {
			for _, sub := range a.Subgraphs() {
				w.graph(sub)
			}
		}
	}
	w.holder[g] = nil
	for _, v := range g.Outputs {
		w.read(v, g)
	}
}

// read records that graph g reads v: when v belongs to an enclosing graph, the node of that
// graph holding the current position reads it.
func (w *readWalk) read(v *Value, g *Graph) {
	if v == nil || v.Graph() == g {
		return
	}
	n := w.holder[v.Graph()]
	if n == nil || w.seen[readKey{n, v}] {
		return // not visible here (Verify reports it)
	}
	w.seen[readKey{n, v}] = true
	w.reads[n] = append(w.reads[n], v)
}
