package datafeed

import (
	"fmt"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
)

// FromDataset converts a tensor read by package dataset (from .npy, .npz, .pb or IDX
// files) into a runtime tensor, sharing its data.
func FromDataset(t dataset.Tensor) (*runtime.Tensor, error) {
	out := &runtime.Tensor{Shape: append([]int64{}, t.Shape...)}
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

// BatchFeeds maps a dataset batch onto a session's inputs: tensors that carry a name go to
// the input of that name, unnamed ones to the model's non-initializer inputs in order.
func BatchFeeds(m *ir.Model, b dataset.Batch) (map[string]*runtime.Tensor, error) {
	var order []string
	declared := map[string]bool{}
	for _, v := range m.Graph.Inputs {
		if !v.IsConst() {
			order = append(order, v.Name)
			declared[v.Name] = true
		}
	}
	feeds := make(map[string]*runtime.Tensor, len(b.Inputs))
	for i, t := range b.Inputs {
		name := t.Name
		if name == "" || !declared[name] {
			if i >= len(order) {
				return nil, fmt.Errorf("the data has %d inputs, the model %d (%v)", len(b.Inputs), len(order), order)
			}
			name = order[i]
		}
		rt, err := FromDataset(t)
		if err != nil {
			return nil, err
		}
		feeds[name] = rt
	}
	return feeds, nil
}
