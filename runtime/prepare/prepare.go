package prepare

import (
	"errors"
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
)

// Domain is the operator domain of the nodes the rules create; runtime/ops/fused registers
// their kernels.
const Domain = "whittle.runtime"

// Options tune Prepare.
type Options struct {
	// KeepAll keeps every value of the original graph: no rule may fuse one away or change
	// its layout (what Intermediates and an observer of every node need).
	KeepAll bool
	// Keep names values that must stay computed as the graph has them, besides the graph
	// outputs.
	Keep []string
}

// Rule is one rewrite of the main graph.
type Rule struct {
	Name string
	// Apply rewrites g and reports whether it changed anything.
	Apply func(c *Context, g *ir.Graph) (changed bool, err error)
}

// Context is what rules see: the private model and the values they must keep.
type Context struct {
	Model *ir.Model
	keep  map[string]bool
	all   bool
	names *ir.Names
}

// Fresh returns a value name no value of the model has yet, built from hint.
func (c *Context) Fresh(hint string) string { return c.names.Fresh(hint) }

// Kept reports whether v must stay as the original graph computes it: a graph output, a
// value named in Options.Keep, or any original value under Options.KeepAll.
func (c *Context) Kept(v *ir.Value) bool {
	return v.IsGraphOutput() || c.all || c.keep[v.Name]
}

// maxRounds bounds the fixed-point iteration; every rule shrinks or reshapes the graph, so
// a model that still changes after this many rounds has rules fighting each other.
const maxRounds = 20

// Prepare returns the model to run in place of m: m itself when no rule applies, otherwise
// a rewritten copy (m is never modified). Shape inference runs on the copy first, so rules
// can rely on the types it finds.
func Prepare(m *ir.Model, opts Options) (*ir.Model, error) {
	if m == nil || m.Graph == nil {
		return nil, errors.New("prepare: model has no graph")
	}
	if !worthPreparing(m.Graph) {
		return m, nil
	}
	pm := m.Clone()
	c := &Context{Model: pm, keep: map[string]bool{}, all: opts.KeepAll, names: ir.ValueNames(pm)}
	for _, name := range opts.Keep {
		c.keep[name] = true
	}
	if _, err := infer.Model(pm, infer.Options{DataPropagation: true}); err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	changedAny := false
	for _, phase := range phases() {
		for round := 0; ; round++ {
			if round == maxRounds {
				return nil, fmt.Errorf("prepare: the rules still change the graph after %d rounds", maxRounds)
			}
			changed := false
			for _, r := range phase {
				ch, err := r.Apply(c, pm.Graph)
				if err != nil {
					return nil, fmt.Errorf("prepare: rule %s: %w", r.Name, err)
				}
				changed = changed || ch
			}
			if !changed {
				break
			}
			changedAny = true
		}
	}
	if !changedAny {
		return m, nil
	}
	pm.SetOpset(Domain, 1)
	return pm, nil
}

// worthPreparing reports whether g holds an operator some rule starts from; other graphs
// (most of the ONNX test suite) are run as they are, without the cost of a copy.
func worthPreparing(g *ir.Graph) bool {
	for _, n := range g.Nodes() {
		if isDefault(n) && startOps[n.OpType] {
			return true
		}
	}
	return false
}

// startOps are the operators the rules match first.
var startOps = map[string]bool{
	"Conv": true, "Gemm": true, "MatMul": true, "LayerNormalization": true, "Softmax": true, "QuantizeLinear": true, "DequantizeLinear": true, "QLinearConv": true,
	"QLinearMatMul": true, "ConvInteger": true, "MatMulInteger": true,
}

func isDefault(n *ir.Node) bool { return n.Domain == "" || n.Domain == "ai.onnx" }

// isOp reports whether n is the default-domain operator op.
func isOp(n *ir.Node, op string) bool { return n != nil && n.OpType == op && isDefault(n) }

// soleUser returns the only node reading v, or nil when v has several readers, none, or
// is kept.
func (c *Context) soleUser(v *ir.Value) *ir.Node {
	if v == nil || c.Kept(v) || len(v.Uses()) != 1 {
		return nil
	}
	return v.Uses()[0].Node
}

// replace puts fused in place of nodes (a matched pattern whose last node is last): the
// readers and graph-output entries of last's outputs move to fused's outputs, which take
// their names and types, and the pattern's nodes are removed. Values inside the pattern
// must have no reader outside it.
func replace(g *ir.Graph, nodes []*ir.Node, last *ir.Node, fused *ir.Node) error {
	g.InsertBefore(last, fused)
	for i, old := range last.Outputs() {
		nv := fused.Output(i)
		if old == nil || nv == nil {
			continue
		}
		nv.Type = old.Type
		old.ReplaceAllUsesWith(nv)
		for j, out := range g.Outputs {
			if out == old {
				g.ReplaceOutput(j, nv)
			}
		}
	}
	// Remove readers before the values they read.
	for i := len(nodes) - 1; i >= 0; i-- {
		if err := g.RemoveNode(nodes[i]); err != nil {
			return err
		}
	}
	for i, old := range last.Outputs() {
		if nv := fused.Output(i); old != nil && nv != nil {
			nv.Name = old.Name
		}
	}
	return nil
}

// tmpNames gives the outputs of a node made to replace last temporary names that cannot
// clash; replace renames them.
func (c *Context) tmpNames(last *ir.Node) []string {
	names := make([]string, len(last.Outputs()))
	for i, v := range last.Outputs() {
		if v != nil {
			names[i] = c.Fresh(v.Name + "__fused")
		}
	}
	return names
}
