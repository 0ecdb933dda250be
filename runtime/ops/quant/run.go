package quant

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// runNamed is the Run of the kernels of this package, which all have one output: it calls
// run and names the node in its error.
func runNamed(n *ir.Node, run func(*kernel.Context, []*kernel.Tensor) (*kernel.Tensor, error), ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	y, err := run(ctx, inputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Describe(), err)
	}
	return []*kernel.Tensor{y}, nil
}
