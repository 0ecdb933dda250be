package distill

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// untieBatchNormStats gives every BatchNormalization whose running mean or variance is
// not an initializer of its own one that is, and returns how many it made.
//
// PyTorch's exporter merges initializers of equal value, and in an untrained module every
// BatchNorm's running variance equals its weight (ones) and its running mean its bias
// (zeros): the exported file computes the statistics as Identity(weight) and
// Identity(bias). A trainer then has no statistics to update (they are not initializers)
// and every inference run normalizes with the trained scale and shift instead, so the
// student scores near chance on validation while it trains well. A statistic read
// through Identity nodes from an initializer, or an initializer that something else also
// reads, is replaced by a copy named after the tensor BatchNormalization read; Identity
// nodes left unread are removed.
func untieBatchNormStats(m *ir.Model) (int, error) {
	g := m.Graph
	made := 0
	for _, n := range g.Nodes() {
		if n.OpType != "BatchNormalization" || (n.Domain != "" && n.Domain != "ai.onnx") {
			continue
		}
		for i := 3; i <= 4 && i < len(n.Inputs()); i++ {
			v := n.Input(i)
			src := v
			for src != nil && src.Producer() != nil && src.Producer().OpType == "Identity" && len(src.Producer().Inputs()) == 1 {
				src = src.Producer().Input(0)
			}
			if src == nil || src.Const == nil {
				continue
			}
			if src == v && len(v.Uses()) == 1 && !v.IsGraphOutput() {
				continue // already its own
			}
			t := src.Const.Clone()
			t.Name = v.Name + "/untied"
			w := g.AddInitializer(t)
			n.SetInput(i, w)
			// Remove the Identity chain that nothing reads any more; the statistic then takes
			// its name (the one PyTorch gave it, e.g. "features.0.1.running_var").
			name := v.Name
			for v != src && len(v.Uses()) == 0 && !v.IsGraphOutput() {
				p := v.Producer()
				if err := g.RemoveNode(p); err != nil {
					return made, fmt.Errorf("batch-norm statistics: %w", err)
				}
				v = p.Input(0)
			}
			if g.Lookup(name) == nil {
				w.Name, t.Name = name, name
			}
			made++
		}
	}
	return made, nil
}
