package runtime

import (
	"fmt"
	"runtime/debug"

	"github.com/whittle-ml/whittle/runtime/kernel"
)

// InternalError reports a kernel that panicked: a bug in whittle, which a hostile model
// must not be able to turn into a crash of the process running it.
type InternalError struct {
	Value any    // what the kernel panicked with
	Stack []byte // the kernel goroutine's stack at the panic
}

func (e *InternalError) Error() string {
	return fmt.Sprintf("internal error (a bug in whittle; please report it with the model): %v", e.Value)
}

// runKernel runs one kernel call, turning a panic into an error. Allocations panic with a
// *kernel.BudgetError or *kernel.ShapeError (kernel.New and Context.Alloc have no error
// result), which come back as those errors; anything else is an *InternalError.
func runKernel(k kernel.Kernel, ctx *kernel.Context, args []*Tensor) (outs []*Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			switch e := r.(type) {
			case *kernel.BudgetError:
				err = e
			case *kernel.ShapeError:
				err = e
			default:
				err = &InternalError{Value: r, Stack: debug.Stack()}
			}
		}
	}()
	return k.Run(ctx, args)
}
