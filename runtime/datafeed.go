package runtime

import (
	"fmt"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
)

// FromDataset converts a tensor read by package dataset (from .npy, .npz, .pb or IDX
// files) into a runtime tensor, sharing its data.
func FromDataset(t dataset.Tensor) (*Tensor, error) {
	out := &Tensor{Shape: append([]int64{}, t.Shape...)}
	switch t.DType {
	case dataset.Float32:
		out.DType, out.Data = ir.Float, t.Float32
	case dataset.Float64:
		out.DType, out.Data = ir.Double, t.Float64
	case dataset.Int64:
		out.DType, out.Data = ir.Int64, t.Int64
	case dataset.Int32:
		out.DType, out.Data = ir.Int32, t.Int32
	case dataset.Uint8:
		out.DType, out.Data = ir.Uint8, t.Uint8
	case dataset.Bool:
		out.DType, out.Data = ir.Bool, t.Bool
	default:
		return nil, fmt.Errorf("tensor %q: element type %s is not supported", t.Name, t.DType)
	}
	return out, nil
}
