package passes

import "github.com/whittle-ml/whittle/ir"

func init() {
	Register(Info{
		Name: "eliminate_dead",
		Doc: "remove nodes whose outputs nothing reads, unused initializers, and unused graph inputs " +
			"that only carry an initializer (IR < 4 weights); inputs the caller feeds are never removed",
		New:        noParams("eliminate_dead", eliminateDead),
		FixedPoint: true,
	})
}

// eliminateDead sweeps each graph from its last node to its first, so that a chain of dead
// nodes goes in one run, then drops initializers nothing reads.
func eliminateDead(ctx *Context, m *ir.Model) (bool, error) {
	r := newRewriter(ctx, m)
	keep := trainingNames(m)
	// Inner graphs first: a dead node inside a body releases the outer values it read.
	graphs := workGraphs(m)
	for gi := len(graphs) - 1; gi >= 0; gi-- {
		g := graphs[gi]
		nodes := g.Nodes()
		for i := len(nodes) - 1; i >= 0; i-- {
			n := nodes[i]
			if isDead(n) {
				if err := r.removeNode(n); err != nil {
					return r.changed, err
				}
			}
		}
		for _, v := range append([]*ir.Value(nil), g.Initializers...) {
			if len(v.Uses()) > 0 || v.IsGraphOutput() || keep[v.Name] {
				continue
			}
			// An initializer listed among the inputs of a subgraph is a formal parameter.
			if v.IsGraphInput() && g != m.Graph {
				continue
			}
			if err := r.removeInitializer(v); err != nil {
				return r.changed, err
			}
		}
	}
	return r.changed, nil
}

// isDead reports whether n can go: no output is read or is a graph output, and n is a
// standard operator (whose only effect is its outputs). Operators of other domains are
// kept: whittle cannot know that they have no side effects.
func isDead(n *ir.Node) bool {
	if !ir.IsDefaultDomain(n.Domain) && n.Domain != "ai.onnx.ml" {
		return false
	}
	for _, v := range n.Outputs() {
		if v != nil && (len(v.Uses()) > 0 || v.IsGraphOutput()) {
			return false
		}
	}
	return true
}

// trainingNames lists initializer names that training_info bindings refer to by name.
func trainingNames(m *ir.Model) map[string]bool {
	out := map[string]bool{}
	for _, ti := range m.TrainingInfo {
		for _, p := range ti.InitializationBinding {
			out[p.Key] = true
			out[p.Value] = true
		}
		for _, p := range ti.UpdateBinding {
			out[p.Key] = true
			out[p.Value] = true
		}
	}
	return out
}
