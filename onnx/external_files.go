package onnx

import (
	"sort"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// ExternalDataFiles lists the data files (locations relative to the model's folder) that
// tensors of m still refer to, sorted and once each. Commands use it to refuse writing a
// new data file over one that the input model needs.
func ExternalDataFiles(m *onnxpb.ModelProto) []string {
	seen := map[string]bool{}
	_ = forEachTensor(m, func(v tensorVisit) error {
		if !usesExternalData(v.tensor) {
			return nil
		}
		for _, kv := range v.tensor.GetExternalData() {
			if kv.GetKey() == "location" {
				if loc, err := cleanLocation(kv.GetValue()); err == nil {
					seen[loc] = true
				}
			}
		}
		return nil
	})
	out := make([]string, 0, len(seen))
	for loc := range seen {
		out = append(out, loc)
	}
	sort.Strings(out)
	return out
}
