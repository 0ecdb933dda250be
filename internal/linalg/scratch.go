package linalg

import (
	"math/bits"
	"sync"
)

// Kernels need large temporaries on every run (im2col matrices, GEMM packing buffers);
// allocating them afresh made Conv-heavy models allocate tens of megabytes per inference
// and kept the garbage collector busy. Scratch buffers instead come from power-of-two size
// classes, each a sync.Pool, so concurrent runs never share a buffer and a buffer is
// reused for any request of its class.
const (
	scratchMinShift = 6  // smallest class: 64 elements
	scratchMaxShift = 28 // largest pooled class: 256 Mi elements; bigger ones are not pooled
)

// Scratch is a pooled buffer; Buf has the requested length and undefined contents.
type Scratch[T any] struct {
	Buf   []T
	class int // index into the pool's classes, or -1 when the buffer is not pooled
	pool  *ScratchPool[T]
}

// ScratchPool hands out Scratch buffers of one element type. The zero value is ready to
// use; the package keeps one per element type it needs (GetFloat32), and integer kernels
// add their own the same way.
type ScratchPool[T any] struct {
	classes [scratchMaxShift + 1]sync.Pool
}

// scratchClass returns the size class holding n elements: the smallest shift s with
// 1<<s >= n, at least scratchMinShift; -1 when n is too large to pool.
func scratchClass(n int) int {
	s := max(bits.Len(uint(max(n, 1)-1)), scratchMinShift)
	if s > scratchMaxShift {
		return -1
	}
	return s
}

// Get returns a buffer of n elements whose contents are undefined: callers write every
// element they read. Give it back with Release when done.
func (p *ScratchPool[T]) Get(n int) *Scratch[T] {
	cls := scratchClass(n)
	if cls < 0 {
		return &Scratch[T]{Buf: make([]T, n), class: -1}
	}
	if s, ok := p.classes[cls].Get().(*Scratch[T]); ok {
		s.Buf = s.Buf[:n]
		return s
	}
	return &Scratch[T]{Buf: make([]T, n, 1<<cls), class: cls, pool: p}
}

// Release returns the buffer to its pool; the caller must not use s afterwards. A nil s
// is allowed.
func (s *Scratch[T]) Release() {
	if s == nil || s.class < 0 {
		return
	}
	s.pool.classes[s.class].Put(s)
}

var float32Scratch ScratchPool[float32]

// GetFloat32 returns a pooled float32 buffer of n elements with undefined contents.
func GetFloat32(n int) *Scratch[float32] { return float32Scratch.Get(n) }
