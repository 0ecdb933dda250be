package passes

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

func init() {
	Register(Info{
		Name: "constants_to_initializers",
		Doc: "turn Constant nodes holding at least min_elements elements into initializers, the layout " +
			"PyTorch writes: exporters such as Paddle2ONNX keep weights in Constant nodes, where " +
			"tools that look for initializers (quantizers, external data, deduplication) miss them",
		Params: []ParamInfo{{Name: "min_elements", Doc: "smallest Constant moved (smaller ones, such as shapes, stay nodes)", Default: "16"}},
		New: func(p Params) (Pass, error) {
			limit, err := p.Int("min_elements", 16)
			if err != nil {
				return nil, err
			}
			if limit < 0 {
				return nil, fmt.Errorf("min_elements must be >= 0, got %d", limit)
			}
			return simplePass{name: "constants_to_initializers", run: func(ctx *Context, m *ir.Model) (bool, error) {
				return constantsToInitializers(ctx, m, limit)
			}}, nil
		},
		FixedPoint: true,
	})
}

// constantsToInitializers replaces each large enough Constant node by an initializer that
// takes the node's output name, so readers and graph outputs see the same value.
func constantsToInitializers(ctx *Context, m *ir.Model, minElements int64) (bool, error) {
	r := newRewriter(ctx, m)
	for _, g := range workGraphs(m) {
		for _, n := range g.Nodes() {
			if n.OpType != "Constant" || !ir.IsDefaultDomain(n.Domain) || n.Output(0) == nil {
				continue
			}
			t, err := constantNodeTensor(n)
			if err != nil {
				continue // external data not loaded, or a form with no tensor: leave it
			}
			if ne, err := t.NumElements(); err != nil || ne < minElements {
				continue
			}
			if err := r.replaceByConstants(n, []*ir.Tensor{t}); err != nil {
				return r.changed, err
			}
		}
	}
	return r.changed, nil
}
