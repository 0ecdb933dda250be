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
	return fmt.Errorf("%s: %s", n.Describe(), fmt.Sprintf(format, args...))
}

// input returns inputs[i] when it is present and a tensor, nil otherwise.
func input(inputs []*kernel.Tensor, i int) *kernel.Tensor {
	if i < len(inputs) && inputs[i] != nil && inputs[i].Kind == kernel.TensorValue {
		return inputs[i]
	}
	return nil
}

// toFloat64s converts a numeric tensor's elements to float64 (half types by their bits).
func toFloat64s(t *kernel.Tensor) ([]float64, error) {
	switch d := t.Data.(type) {
	case []float32:
		return convert64(d), nil
	case []float64:
		return d, nil
	case []int32:
		return convert64(d), nil
	case []int64:
		return convert64(d), nil
	case []uint16:
		out := make([]float64, len(d))
		for i, v := range d {
			switch t.DType {
			case ir.Float16:
				out[i] = float64(kernel.Float16ToFloat32(v))
			case ir.BFloat16:
				out[i] = float64(kernel.BFloat16ToFloat32(v))
			default:
				out[i] = float64(v)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("element type %s is not supported", t.DType)
}

func convert64[T float32 | int32 | int64](d []T) []float64 {
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v)
	}
	return out
}

// tensorFloats reads a float or double tensor attribute as float64s.
func tensorFloats(t *ir.Tensor) ([]float64, error) {
	kt, err := kernel.FromIR(t)
	if err != nil {
		return nil, err
	}
	switch d := kt.Data.(type) {
	case []float32:
		return convert64(d), nil
	case []float64:
		return d, nil
	}
	return nil, fmt.Errorf("tensor %q: element type %s is not float or double", t.Name, t.DataType)
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
