package ml

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// mlDomain is the domain of the classic machine-learning operators.
const mlDomain = "ai.onnx.ml"

// opErr prefixes an error with the node's description.
func opErr(n *ir.Node, format string, args ...any) error {
	// The format is appended, not rendered into %s, so that a %w in it keeps the error
	// it wraps (a *kernel.BudgetError stays errors.Is ErrMemoryBudget).
	return fmt.Errorf("%s: "+format, append([]any{n.Describe()}, args...)...)
}

// floatKey canonicalizes a float for use as a map key: every NaN is one key, and -0 is 0,
// so that lookups follow numeric equality (with NaN matching NaN, as LabelEncoder wants).
func floatKey(f float64) uint64 {
	if math.IsNaN(f) {
		return math.Float64bits(math.NaN())
	}
	if f == 0 {
		return 0
	}
	return math.Float64bits(f)
}

// tensorFloats reads a float or double tensor attribute as float64s.
func tensorFloats(t *ir.Tensor) ([]float64, error) {
	if t.DataType != ir.Float && t.DataType != ir.Double {
		return nil, fmt.Errorf("tensor %q: element type %s is not float or double", t.Name, t.DataType)
	}
	kt, err := kernel.FromIR(t)
	if err != nil {
		return nil, err
	}
	return kernel.Float64sOf(kt)
}
