package prepare

import "github.com/whittle-ml/whittle/ir"

// OpBinary is a float32 Add, Sub, Mul or Div (attribute op) with numpy broadcasting; its
// kernel runs the common shapes (equal shapes; one operand repeated along a run of axes,
// such as a per-channel scale) as vector loops and leaves the rest to the reference
// kernel.
const OpBinary = "Binary"

// fastElementwise gives float Add, Sub, Mul and Div of the main graph the vector kernel.
// It runs after fusion, so what it sees are the elementwise operators no kernel absorbed.
var fastElementwise = Rule{Name: "fast_elementwise", Apply: applyFastElementwise}

func applyFastElementwise(c *Context, g *ir.Graph) (bool, error) {
	changed := false
	for _, n := range g.Nodes() {
		switch {
		case !isDefault(n) || len(n.Inputs()) != 2 || len(n.Outputs()) != 1:
			continue
		case n.OpType != "Add" && n.OpType != "Sub" && n.OpType != "Mul" && n.OpType != "Div":
			continue
		case !isFloatTensor(n.Input(0)) || !isFloatTensor(n.Input(1)) || !isFloatTensor(n.Output(0)):
			continue
		}
		b := g.NewNode(Domain, OpBinary, n.Inputs(), c.tmpNames(n), ir.StringAttr("op", n.OpType))
		b.Name = n.Name
		if err := replace(g, []*ir.Node{n}, n, b); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}
