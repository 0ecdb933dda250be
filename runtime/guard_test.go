package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// expandModel broadcasts a one-element float constant to shape, in a node named "expand".
func expandModel(shape ...int64) *ir.Model {
	g := ir.NewGraph("g")
	x := g.AddInitializer(ir.FromFloat32("x", []int64{1}, []float32{1}))
	s := g.AddInitializer(ir.FromInt64("s", []int64{int64(len(shape))}, shape))
	n := g.NewNode("", "Expand", []*ir.Value{x, s}, []string{"y"})
	n.Name = "expand"
	g.Append(n)
	g.Outputs = []*ir.Value{n.Output(0)}
	return model(g, 13)
}

func TestMemoryBudget(t *testing.T) {
	defer kernel.SetMemoryBudget(kernel.SetMemoryBudget(256 << 20))
	for _, tt := range []struct {
		name  string
		shape []int64
		want  string // "" for success
	}{
		{"within the budget", []int64{1 << 20}, ""},
		// 2^27 floats are 512 MiB: past the budget, found before allocating.
		{"past the budget", []int64{1 << 27}, `node "expand" (Expand): float[134217728] needs 512.00 MiB, past the memory budget of 256.00 MiB`},
		{"past the budget in two dims", []int64{1 << 14, 1 << 14}, `float[16384 16384] needs 1.00 GiB`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSession(t, expandModel(tt.shape...), Options{})
			outs, err := s.RunOrdered(context.Background(), nil)
			if tt.want == "" {
				if err != nil || outs[0].Len() != int(tt.shape[0]) {
					t.Fatalf("got %v, %v", outs, err)
				}
				return
			}
			var be *kernel.BudgetError
			if !errors.As(err, &be) || !errors.Is(err, kernel.ErrMemoryBudget) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a BudgetError saying %q", err, tt.want)
			}
			if be.Limit != 256<<20 || be.Bytes != 4*tt.shape[0]*prod(tt.shape[1:]) {
				t.Errorf("BudgetError %+v", be)
			}
		})
	}
}

func prod(s []int64) int64 {
	p := int64(1)
	for _, d := range s {
		p *= d
	}
	return p
}

// The default budget (three quarters of physical memory) stops the 32 GiB Expand the issue
// reported crashing the Go runtime, on any machine with less than 42 GiB.
func TestDefaultBudgetStopsHugeExpand(t *testing.T) {
	if kernel.MemoryBudget() >= 32<<30 {
		t.Skipf("the default budget here (%d bytes) admits 32 GiB", kernel.MemoryBudget())
	}
	s := mustSession(t, expandModel(1<<33), Options{})
	_, err := s.RunOrdered(context.Background(), nil)
	if !errors.Is(err, kernel.ErrMemoryBudget) || !strings.Contains(err.Error(), "float[8589934592] needs 32.00 GiB") {
		t.Fatalf("got %v, want a budget error", err)
	}
}

func TestInvalidShapesAreErrors(t *testing.T) {
	for _, tt := range []struct {
		shape []int64
		want  string
	}{
		{[]int64{1 << 62, 1 << 62}, "overflow"},
		{[]int64{1 << 40, 1 << 40, 1 << 40}, "overflow"},
	} {
		s := mustSession(t, expandModel(tt.shape...), Options{})
		_, err := s.RunOrdered(context.Background(), nil)
		if err == nil || !strings.Contains(err.Error(), `node "expand" (Expand)`) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("shape %v: got %v, want an error naming the node and %q", tt.shape, err, tt.want)
		}
	}
	// Allocation helpers refuse the same shapes, with typed errors.
	if _, err := kernel.NewChecked(ir.Float, 1<<62, 1<<62); !errors.As(err, new(*kernel.ShapeError)) {
		t.Errorf("NewChecked: got %v, want a ShapeError", err)
	}
	if _, err := kernel.NewChecked(ir.Float, -1); !errors.As(err, new(*kernel.ShapeError)) {
		t.Errorf("NewChecked(-1): got %v, want a ShapeError", err)
	}
	if _, err := kernel.MakeSlice(ir.Int64, -5); !errors.As(err, new(*kernel.ShapeError)) {
		t.Errorf("MakeSlice(-5): got %v, want a ShapeError", err)
	}
}

func init() {
	kernel.Register(kernel.KernelDef{Domain: "test.whittle", Op: "Panic", SinceVersion: 1,
		New: func(*kernel.NodeInfo) (kernel.Kernel, error) {
			return kernel.KernelFunc(func(*kernel.Context, []*kernel.Tensor) ([]*kernel.Tensor, error) {
				var s []int
				return nil, errors.New(string(rune(s[3]))) // index out of range: a kernel bug
			}), nil
		}})
}

// A kernel that panics fails the run with an error naming its node, not the process.
func TestKernelPanicIsAnError(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2))
	n := g.NewNode("test.whittle", "Panic", []*ir.Value{x}, []string{"y"})
	n.Name = "buggy"
	g.Append(n)
	g.Outputs = []*ir.Value{n.Output(0)}
	m := model(g, 17)
	m.OpsetImports = append(m.OpsetImports, ir.OpsetID{Domain: "test.whittle", Version: 1})
	s := mustSession(t, m, Options{})
	_, err := s.RunOrdered(context.Background(), []*Tensor{f32([]int64{2}, 1, 2)})
	var ie *InternalError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), `node "buggy" (test.whittle::Panic): internal error`) || len(ie.Stack) == 0 {
		t.Fatalf("got %v, want an InternalError naming the node", err)
	}
}
