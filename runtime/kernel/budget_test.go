package kernel

import (
	"errors"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

// A refused scratch buffer is named like a tensor (its element type and count, or the
// shape it was asked for), so that the node's error says what did not fit; counts that
// are negative or overflow are shape errors, not budget errors.
func TestScratchErrorsNameTheBuffer(t *testing.T) {
	defer SetMemoryBudget(SetMemoryBudget(1 << 20))
	type pair struct{ a, b float64 }
	for _, tt := range []struct {
		name   string
		alloc  func() error
		want   string
		budget bool
	}{
		{"float64 count", func() error { _, err := MakeScratch[float64](1 << 20); return err },
			"double[1048576] needs 8.00 MiB, past the memory budget of 1.00 MiB", true},
		{"int count", func() error { _, err := MakeScratch[int](1 << 18); return err },
			"int64[262144] needs 2.00 MiB", true},
		{"struct elements keep the byte count", func() error { _, err := MakeScratch[pair](1 << 17); return err },
			"a 2097152-byte scratch buffer needs 2.00 MiB", true},
		{"shaped", func() error { _, err := MakeScratchShaped[float32]([]int64{1 << 10, 1 << 10}); return err },
			"float[1024 1024] needs 4.00 MiB", true},
		{"shaped overflow", func() error { _, err := MakeScratchShaped[float32]([]int64{1 << 40, 1 << 40}); return err },
			"cannot allocate float[1099511627776 1099511627776]", false},
		{"shaped beyond the address space", func() error { _, err := MakeScratchShaped[float64]([]int64{1 << 62}); return err },
			"overflow the address space", false},
		{"negative count", func() error { _, err := MakeScratch[float32](-1); return err },
			"invalid scratch size", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.alloc()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
			if errors.Is(err, ErrMemoryBudget) != tt.budget {
				t.Errorf("errors.Is(err, ErrMemoryBudget) = %v, want %v", !tt.budget, tt.budget)
			}
			if !tt.budget && !errors.As(err, new(*ShapeError)) {
				t.Errorf("got %T, want a *ShapeError", err)
			}
		})
	}
	// Within the budget the buffer is returned zeroed and of the asked shape's count.
	buf, err := MakeScratchShaped[int32]([]int64{3, 0, 5})
	if err != nil || buf == nil || len(buf) != 0 {
		t.Errorf("empty shape: got %v, %v", buf, err)
	}
	if buf, err := MakeScratchShaped[int32]([]int64{3, 5}); err != nil || len(buf) != 15 {
		t.Errorf("3×5: got %d elements, %v", len(buf), err)
	}
}

// A tensor of one element but millions of dimensions is weighed by its shape: the shape
// slice is what it costs.
func TestHugeRankIsWeighed(t *testing.T) {
	defer SetMemoryBudget(SetMemoryBudget(1 << 20))
	shape := make([]int64, 1<<20) // 8 MiB of dimensions, every one 1
	for i := range shape {
		shape[i] = 1
	}
	if _, err := NewChecked(ir.Float, shape...); !errors.Is(err, ErrMemoryBudget) || !strings.Contains(err.Error(), "float tensor of rank 1048576: its shape: a 8388608-byte scratch buffer needs 8.00 MiB") {
		t.Fatalf("got %v, want a budget error for the shape's 8 MiB", err)
	}
	if _, err := NewChecked(ir.Float, 1, 1, 1); err != nil {
		t.Fatalf("rank 3: %v", err)
	}
}
