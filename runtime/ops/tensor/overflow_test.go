package tensor

import (
	"errors"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/internal/kerneltest"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Sizes computed from a model's data must fail cleanly when they overflow or do not fit
// the memory budget, before anything of that size is allocated.
func TestSizesFromDataAreChecked(t *testing.T) {
	defer kernel.SetMemoryBudget(kernel.SetMemoryBudget(64 << 20))
	i64 := func(v ...int64) *kernel.Tensor { return kernel.FromInt64([]int64{int64(len(v))}, v) }
	scalar := func(v int64) *kernel.Tensor { return kernel.FromInt64(nil, []int64{v}) }
	f32 := func(shape ...int64) *kernel.Tensor { return kernel.New(ir.Float, shape...) }
	for _, tt := range []struct {
		name   string
		op     string
		inputs []*kernel.Tensor
		want   string
		budget bool // the error is a *kernel.BudgetError
	}{
		{"Range past the element cap", "Range", []*kernel.Tensor{scalar(0), scalar(1 << 40), scalar(1)}, "exceeds the limit", false},
		{"Range past the budget", "Range", []*kernel.Tensor{scalar(0), scalar(1 << 30), scalar(1)}, "past the memory budget", true},
		{"Range from the extremes", "Range", []*kernel.Tensor{scalar(-1 << 63), scalar(1<<63 - 1), scalar(1)}, "exceeds the limit", false},
		{"Tile past the budget", "Tile", []*kernel.Tensor{f32(1), i64(1 << 30)}, "past the memory budget", true},
		// An empty axis makes the output empty, but the index map of the other axis would
		// still be 2^33 entries.
		{"Tile of an empty tensor", "Tile", []*kernel.Tensor{f32(0, 1), i64(1, 1<<33)}, "past the memory budget", true},
		{"Tile overflowing", "Tile", []*kernel.Tensor{f32(1 << 20), i64(1 << 50)}, "too large", false},
		{"Expand past the budget", "Expand", []*kernel.Tensor{f32(1), i64(1 << 30)}, "float[1073741824] needs 4.00 GiB", true},
		{"Expand overflowing", "Expand", []*kernel.Tensor{f32(1), i64(1<<40, 1<<40)}, "overflows", false},
		{"Reshape overflowing to a wrapped count", "Reshape", []*kernel.Tensor{f32(0), i64(1<<32, 1<<32, 0)}, "more elements than int64 can count", false},
		{"Reshape with an impossible count", "Reshape", []*kernel.Tensor{f32(6), i64(1<<62, 4)}, "more elements than int64 can count", false},
		{"ConstantOfShape past the budget", "ConstantOfShape", []*kernel.Tensor{i64(1<<16, 1<<16)}, "past the memory budget", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runCatching(tt.op, tt.inputs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
			if tt.budget != errors.Is(err, kernel.ErrMemoryBudget) {
				t.Errorf("budget error: %v, want %v", errors.Is(err, kernel.ErrMemoryBudget), tt.budget)
			}
		})
	}
}

// runCatching runs a kernel as the session does: an allocation refused inside it panics
// with the typed error, which the session's executor recovers.
func runCatching(op string, inputs []*kernel.Tensor) (out *kernel.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				panic(r)
			}
			err = e
		}
	}()
	return kerneltest.RunOne(op, 17, nil, inputs...)
}
