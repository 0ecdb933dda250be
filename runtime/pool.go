package runtime

import (
	"errors"
	"math/bits"
	"reflect"
	"sync"
	"unsafe"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Buffer pooling.
//
// Ownership rule: a value's buffer goes back to the pool when the value dies (after its
// last reader ran) only if
//
//  1. the *Tensor the kernel returned is one that the pool handed out during that very
//     kernel call (so the buffer is pooled, of a known capacity class, and not a view), and
//  2. no kernel made a view of it: whenever a kernel returns any output that it did not
//     just allocate from the pool (Reshape, Identity, a Split returning sub-slices, a
//     control-flow body passing an outer value through), every value that kernel read is
//     marked as not returnable, because that output may share its buffer; and
//  3. it is not a graph output, a graph input, a constant, or a value of an enclosing graph.
//
// The rule is conservative: an aliasing kernel pins its inputs' buffers for the rest of the
// run (the garbage collector reclaims them), but a buffer that is still visible anywhere is
// never reused. One exception keeps the common views from turning into garbage on every
// run (a Flatten before the classifier, a transformer's Reshapes): when an output is the
// whole buffer of the kernel's first input (same first element, same capacity) and that
// input dies at this step with its buffer owned, the output takes over the ownership. No
// one else can see the buffer: the input had no other reader left, and a kernel that
// made any other view of it would have cleared its ownership earlier.

// sizeClass maps an element count to a capacity class and that class's capacity: powers
// of two split into four steps each, so at most 25% of a buffer is wasted (small counts
// get exact classes 1..8).
func sizeClass(n int) (class, capacity int) {
	if n <= 8 {
		return n, n
	}
	hi := bits.Len(uint(n-1)) - 1 // 2^hi < n <= 2^(hi+1)
	base := 1 << hi
	step := base / 4
	q := (n - base + step - 1) / step // 1..4
	return 8 + (hi-3)*4 + q, base + q*step
}

// storage groups element types by the Go slice that holds them.
type storage uint8

const (
	stNone storage = iota
	stF32
	stF64
	stU16
	stI8
	stI16
	stI32
	stI64
	stU8
	stU32
	stU64
	stBool
	numStorages
)

func storageOf(dt ir.DataType) storage {
	switch dt {
	case ir.Float:
		return stF32
	case ir.Double:
		return stF64
	case ir.Float16, ir.BFloat16, ir.Uint16:
		return stU16
	case ir.Int8:
		return stI8
	case ir.Int16:
		return stI16
	case ir.Int32:
		return stI32
	case ir.Int64:
		return stI64
	case ir.Uint8, ir.Float8E4M3FN, ir.Float8E4M3FNUZ, ir.Float8E5M2, ir.Float8E5M2FNUZ, ir.Float8E8M0,
		ir.Uint4, ir.Int4, ir.Float4E2M1, ir.Uint2, ir.Int2:
		return stU8
	case ir.Uint32:
		return stU32
	case ir.Uint64:
		return stU64
	case ir.Bool:
		return stBool
	}
	// Strings and complex numbers are not pooled: strings would need clearing for the
	// garbage collector, and complex tensors are rare.
	return stNone
}

const maxClasses = 8 + 61*4 + 1

// bufferPool is a session's free list of buffers keyed by (storage, capacity class). It
// keeps at most maxPerClass buffers per key so a burst of concurrent runs does not pin
// memory forever.
type bufferPool struct {
	mu   sync.Mutex
	free [numStorages][maxClasses][]any
}

const maxPerClass = 16

func (p *bufferPool) get(dt ir.DataType, n int) (any, error) {
	st := storageOf(dt)
	if st == stNone || n == 0 {
		data, err := kernel.MakeSlice(dt, n)
		if err != nil {
			var se *kernel.ShapeError
			if !errors.As(err, &se) && !errors.Is(err, kernel.ErrMemoryBudget) {
				err = &kernel.ShapeError{DType: dt, Shape: []int64{int64(n)}, Err: err}
			}
		}
		return data, err
	}
	class, capacity := sizeClass(n)
	p.mu.Lock()
	list := p.free[st][class]
	if k := len(list); k > 0 {
		buf := list[k-1]
		list[k-1] = nil
		p.free[st][class] = list[:k-1]
		p.mu.Unlock()
		return reslice(buf, n), nil
	}
	p.mu.Unlock()
	buf, err := kernel.MakeSlice(dt, capacity)
	if err != nil {
		return nil, err
	}
	return reslice(buf, n), nil
}

// put returns a buffer that get handed out.
func (p *bufferPool) put(dt ir.DataType, data any) {
	st := storageOf(dt)
	if st == stNone {
		return
	}
	c := sliceCap(data)
	if c == 0 {
		return
	}
	class, capacity := sizeClass(c)
	if capacity != c {
		return // not one of ours
	}
	p.mu.Lock()
	if len(p.free[st][class]) < maxPerClass {
		p.free[st][class] = append(p.free[st][class], data)
	}
	p.mu.Unlock()
}

func reslice(data any, n int) any {
	switch d := data.(type) {
	case []float32:
		return d[:n]
	case []float64:
		return d[:n]
	case []uint16:
		return d[:n]
	case []int8:
		return d[:n]
	case []int16:
		return d[:n]
	case []int32:
		return d[:n]
	case []int64:
		return d[:n]
	case []uint8:
		return d[:n]
	case []uint32:
		return d[:n]
	case []uint64:
		return d[:n]
	case []bool:
		return d[:n]
	}
	return data
}

// sameBuffer reports whether a and b are slices of one element type that start at the
// same element and have the same capacity: the same pooled buffer, whatever their lengths.
func sameBuffer(a, b any) bool {
	pa, ca := bufferOf(a)
	pb, cb := bufferOf(b)
	return ca > 0 && ca == cb && pa == pb && reflect.TypeOf(a) == reflect.TypeOf(b)
}

func sliceCap(data any) int {
	_, c := bufferOf(data)
	return c
}

// bufferOf returns the first element and the capacity of a pooled storage's slice (nil
// and 0 for any other value).
func bufferOf(data any) (unsafe.Pointer, int) {
	switch d := data.(type) {
	case []float32:
		return unsafe.Pointer(unsafe.SliceData(d)), cap(d)
	case []float64:
		return unsafe.Pointer(unsafe.SliceData(d)), cap(d)
	case []uint16:
		return unsafe.Pointer(unsafe.SliceData(d)), cap(d)
	case []int8:
		return unsafe.Pointer(unsafe.SliceData(d)), cap(d)
	case []int16:
		return unsafe.Pointer(unsafe.SliceData(d)), cap(d)
	case []int32:
		return unsafe.Pointer(unsafe.SliceData(d)), cap(d)
	case []int64:
		return unsafe.Pointer(unsafe.SliceData(d)), cap(d)
	case []uint8:
		return unsafe.Pointer(unsafe.SliceData(d)), cap(d)
	case []uint32:
		return unsafe.Pointer(unsafe.SliceData(d)), cap(d)
	case []uint64:
		return unsafe.Pointer(unsafe.SliceData(d)), cap(d)
	case []bool:
		return unsafe.Pointer(unsafe.SliceData(d)), cap(d)
	}
	return nil, 0
}

// runAlloc is the kernel.Pool of one Run: it takes buffers from the session's pool and
// remembers the tensors handed out during the current kernel call (fresh), which is how
// the executor tells a newly allocated output from a view of an input.
type runAlloc struct {
	pool  *bufferPool
	fresh []*kernel.Tensor
}

// Get implements kernel.Pool. A shape past the memory budget, or one whose element count is
// invalid, panics with the *kernel.BudgetError or *kernel.ShapeError, which the executor
// turns into the failing node's error (Pool.Get has no error result for kernels to check).
func (a *runAlloc) Get(dt ir.DataType, shape []int64) *kernel.Tensor {
	n, err := kernel.CheckedCount(dt, shape)
	if err != nil {
		panic(err)
	}
	data, err := a.pool.get(dt, n)
	if err != nil {
		panic(err)
	}
	t := &kernel.Tensor{DType: dt, Shape: append([]int64(nil), shape...), Data: data}
	a.fresh = append(a.fresh, t)
	return t
}

// takeFresh reports whether t was handed out since mark and, if so, forgets it so that a
// kernel returning the same tensor twice does not get it owned twice.
func (a *runAlloc) takeFresh(mark int, t *kernel.Tensor) bool {
	for i := mark; i < len(a.fresh); i++ {
		if a.fresh[i] == t {
			a.fresh[i] = nil
			return true
		}
	}
	return false
}

func (a *runAlloc) release(t *kernel.Tensor) {
	a.pool.put(t.DType, t.Data)
}
