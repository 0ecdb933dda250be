package kernel

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// InternalError reports a kernel (or kernel factory) that panicked: a bug in whittle,
// which a hostile model must not be able to turn into a crash of the process running it.
type InternalError struct {
	Value any    // what the kernel panicked with
	Stack []byte // the goroutine's stack at the panic
}

func (e *InternalError) Error() string {
	return fmt.Sprintf("internal error (a bug in whittle; please report it with the model): %v", e.Value)
}

// recovered turns a recovered panic into an error: allocations panic with a *BudgetError
// or *ShapeError (New and Context.Alloc have no error result), which come back as those
// errors; anything else is an *InternalError.
func recovered(r any) error {
	if e, ok := r.(error); ok && (errors.As(e, new(*BudgetError)) || errors.As(e, new(*ShapeError))) {
		return e // possibly wrapped with context (a shape too long for the budget says so)
	}
	return &InternalError{Value: r, Stack: debug.Stack()}
}

// RunGuarded runs one kernel call, turning a panic into an error (see InternalError).
// Executors call kernels through it.
func RunGuarded(k Kernel, ctx *Context, args []*Tensor) (outs []*Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			outs, err = nil, recovered(r)
		}
	}()
	return k.Run(ctx, args)
}

// NewGuarded calls a kernel factory, turning a panic into an error (see InternalError).
func NewGuarded(def KernelDef, info *NodeInfo) (k Kernel, err error) {
	defer func() {
		if r := recover(); r != nil {
			k, err = nil, recovered(r)
		}
	}()
	return def.New(info)
}
