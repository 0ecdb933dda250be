package training

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// trainingDomain is the domain of the training operators.
const trainingDomain = "ai.onnx.preview.training"

// opErr prefixes an error with the node's description.
func opErr(n *ir.Node, format string, args ...any) error {
	// The format is appended, not rendered into %s, so that a %w in it keeps the error
	// it wraps (a *kernel.BudgetError stays errors.Is ErrMemoryBudget).
	return fmt.Errorf("%s: "+format, append([]any{n.Describe()}, args...)...)
}

// scalarFloat reads a one-element float tensor.
func scalarFloat(t *kernel.Tensor) (float64, error) {
	if t == nil || t.NumElements() != 1 {
		return 0, fmt.Errorf("want a one-element tensor, got %v", t)
	}
	d, err := kernel.FloatsOf(t)
	if err != nil {
		return 0, err
	}
	return d[0], nil
}

// scalarInt reads a one-element int64 tensor.
func scalarInt(t *kernel.Tensor) (int64, error) {
	if t == nil || t.NumElements() != 1 || t.DType != ir.Int64 {
		return 0, fmt.Errorf("want a one-element int64 tensor, got %v", t)
	}
	return t.Int64s()[0], nil
}
