package nn

import (
	"math/bits"
	"sync"
)

// Kernels need large float32 temporaries on every Run (im2col matrices, GEMM packing
// buffers); allocating them afresh made Conv-heavy models allocate tens of megabytes per
// inference and kept the garbage collector busy. Scratch buffers instead come from
// power-of-two size classes, each a sync.Pool, so concurrent Runs never share a buffer
// and a buffer is reused for any request of its class.
const (
	scratchMinShift = 6  // smallest class: 64 floats
	scratchMaxShift = 28 // largest pooled class: 256 Mi floats (1 GiB); bigger ones are not pooled
)

var scratchPools [scratchMaxShift + 1]sync.Pool

// scratch is a pooled float32 buffer; Buf has the requested length and undefined contents.
type scratch struct {
	Buf   []float32
	class int // index into scratchPools, or -1 when the buffer is not pooled
}

// scratchClass returns the size class holding n floats: the smallest shift s with
// 1<<s >= n, at least scratchMinShift; -1 when n is too large to pool.
func scratchClass(n int) int {
	s := max(bits.Len(uint(max(n, 1)-1)), scratchMinShift)
	if s > scratchMaxShift {
		return -1
	}
	return s
}

// getScratch returns a buffer of n floats whose contents are undefined: callers write
// every element they read. Give it back with release when done.
func getScratch(n int) *scratch {
	cls := scratchClass(n)
	if cls < 0 {
		return &scratch{Buf: make([]float32, n), class: -1}
	}
	if s, ok := scratchPools[cls].Get().(*scratch); ok {
		s.Buf = s.Buf[:n]
		return s
	}
	return &scratch{Buf: make([]float32, n, 1<<cls), class: cls}
}

// release returns the buffer to its pool; the caller must not use s afterwards.
func (s *scratch) release() {
	if s == nil || s.class < 0 {
		return
	}
	scratchPools[s.class].Put(s)
}
