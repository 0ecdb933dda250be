package runtime

import "github.com/whittle-ml/whittle/ir"

// FixedBatch returns the first input's leading dimension when the model fixes it (a model
// exported with batch 1 must be fed one row at a time), or 0 when it is symbolic or
// unknown.
func FixedBatch(m *ir.Model) int {
	for _, v := range m.Graph.Inputs {
		if v.IsConst() {
			continue
		}
		if v.Type == nil || !v.Type.HasShape || len(v.Type.Dims) == 0 {
			return 0
		}
		if d := v.Type.Dims[0]; d.IsKnown() {
			return int(d.Value)
		}
		return 0
	}
	return 0
}
