package kernel

import (
	"context"

	"github.com/whittle-ml/whittle/ir"
)

// Context is the state of one Run that kernels see: where to allocate outputs, how to run
// subgraph programs, and cancellation.
type Context struct {
	Ctx context.Context
	// Pool recycles buffers across runs; nil allocates fresh memory.
	Pool Pool
	// Scope gives subgraph programs access to the values of enclosing graphs; the executor
	// defines what it holds.
	Scope any
	// Threads is how many goroutines a kernel may occupy at once, its own included
	// (runtime.Options.Threads); 0 or 1 means the kernel runs on its caller's goroutine.
	// Kernels pass Parallelism() to the routines of internal/linalg (For, Sgemm), whose
	// workers must never call Alloc: the run's allocator is not safe for concurrent use.
	Threads int
}

// Parallelism returns Threads, at least 1; a nil Context gives 1.
func (c *Context) Parallelism() int {
	if c == nil || c.Threads < 1 {
		return 1
	}
	return c.Threads
}

// Pool hands out tensors whose buffers may be reused; the executor implements it.
type Pool interface {
	Get(dt ir.DataType, shape []int64) *Tensor
}

// Alloc returns a tensor of the given type and shape whose buffer may be reused from an
// earlier run: its contents are undefined, so the kernel must write every element.
func (c *Context) Alloc(dt ir.DataType, shape ...int64) *Tensor {
	if c != nil && c.Pool != nil {
		return c.Pool.Get(dt, shape)
	}
	return New(dt, shape...)
}

// AllocZeroed is Alloc with every element set to zero.
func (c *Context) AllocZeroed(dt ir.DataType, shape ...int64) *Tensor {
	t := c.Alloc(dt, shape...)
	zero(t.Data)
	return t
}

func zero(data any) {
	switch d := data.(type) {
	case []float32:
		clear(d)
	case []float64:
		clear(d)
	case []uint16:
		clear(d)
	case []int8:
		clear(d)
	case []int16:
		clear(d)
	case []int32:
		clear(d)
	case []int64:
		clear(d)
	case []uint8:
		clear(d)
	case []uint32:
		clear(d)
	case []uint64:
		clear(d)
	case []bool:
		clear(d)
	case []string:
		clear(d)
	case []complex64:
		clear(d)
	case []complex128:
		clear(d)
	}
}
