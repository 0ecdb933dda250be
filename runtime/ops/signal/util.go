package signal

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// floatTypes are the element types of the signal inputs that the kernels accept.
var floatTypes = []ir.DataType{ir.Float, ir.Double, ir.Float16, ir.BFloat16}

// scalarInt reads a one-element int32 or int64 tensor (a scalar, or shape [1]).
func scalarInt(t *kernel.Tensor, name string) (int64, error) {
	if t.NumElements() != 1 {
		return 0, fmt.Errorf("%s must be a scalar, got shape %v", name, t.Shape)
	}
	switch d := t.Data.(type) {
	case []int64:
		return d[0], nil
	case []int32:
		return int64(d[0]), nil
	}
	return 0, fmt.Errorf("%s must be int32 or int64, got %s", name, t.DType)
}

// scalarFloat reads a one-element float tensor of any float type.
func scalarFloat(t *kernel.Tensor, name string) (float64, error) {
	if t.NumElements() != 1 {
		return 0, fmt.Errorf("%s must be a scalar, got shape %v", name, t.Shape)
	}
	v, err := kernel.FloatsOf(t)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return v[0], nil
}

// numericOutput reports whether dt is a type the generator ops (windows, MelWeightMatrix)
// may produce.
func numericOutput(dt ir.DataType) bool {
	switch dt {
	case ir.Float, ir.Double, ir.Float16, ir.BFloat16, ir.Int8, ir.Int16, ir.Int32, ir.Int64,
		ir.Uint8, ir.Uint16, ir.Uint32, ir.Uint64:
		return true
	}
	return false
}
