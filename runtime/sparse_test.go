package runtime

import (
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// A sparse initializer's dense shape comes from the file: a few bytes can ask for
// terabytes, which used to panic in kernel.New while the session was built and end the
// process (found by the hostile-input table, internal/hostile "sparse-huge"). Coordinates
// out of their axis are refused one by one, so their offset cannot overflow into range.
func TestDensifyRefusesWhatItCannotHold(t *testing.T) {
	defer kernel.SetMemoryBudget(kernel.SetMemoryBudget(64 << 20))
	one := ir.FromFloat32("v", []int64{1}, []float32{1})
	for _, tt := range []struct {
		name string
		s    *ir.SparseTensor
		want string
	}{
		{"4 TiB dense", &ir.SparseTensor{Values: one, Indices: ir.FromInt64("i", []int64{1}, []int64{5}), Dims: []int64{1 << 20, 1 << 20}}, "past the memory budget"},
		{"overflowing dense", &ir.SparseTensor{Values: one, Indices: ir.FromInt64("i", []int64{1}, []int64{5}), Dims: []int64{1 << 40, 1 << 40}}, "overflow"},
		{"coordinate past its axis", &ir.SparseTensor{Values: one, Indices: ir.FromInt64("i", []int64{1, 2}, []int64{0, 3}), Dims: []int64{2, 3}}, "index 1 of value 0 is 3"},
		{"coordinate that would wrap", &ir.SparseTensor{Values: one, Indices: ir.FromInt64("i", []int64{1, 2}, []int64{1 << 62, 1}), Dims: []int64{2, 3}}, "out of range"},
	} {
		_, err := densify(tt.s)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error saying %q", tt.name, err, tt.want)
		}
	}
	got, err := densify(&ir.SparseTensor{Values: one, Indices: ir.FromInt64("i", []int64{1, 2}, []int64{1, 2}), Dims: []int64{2, 3}})
	if err != nil || got.Float32s()[5] != 1 {
		t.Errorf("valid sparse tensor: %v, %v", got, err)
	}
}
