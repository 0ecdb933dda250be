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
