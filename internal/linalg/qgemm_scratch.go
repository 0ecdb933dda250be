package linalg

import (
	"math/bits"
	"sync"
)

// Integer kernels need temporaries on every call (initial accumulator values, im2col rows,
// int32 tiles before requantization). They come from power-of-two size classes, one
// sync.Pool per class and element type, so steady-state runs allocate nothing and
// concurrent calls never share a buffer.
const qScratchMaxShift = 30

// qScratch is a pooled buffer; s has the requested length and undefined contents.
type qScratch[T any] struct {
	s     []T
	class int // pool index, or -1 when not pooled
	pools *[qScratchMaxShift + 1]sync.Pool
}

var (
	bytePools  [qScratchMaxShift + 1]sync.Pool
	int32Pools [qScratchMaxShift + 1]sync.Pool
)

func getScratchOf[T any](pools *[qScratchMaxShift + 1]sync.Pool, n int) *qScratch[T] {
	cls := max(bits.Len(uint(max(n, 1)-1)), 6)
	if cls > qScratchMaxShift {
		return &qScratch[T]{s: make([]T, n), class: -1}
	}
	if s, ok := pools[cls].Get().(*qScratch[T]); ok {
		s.s = s.s[:n]
		return s
	}
	return &qScratch[T]{s: make([]T, n, 1<<cls), class: cls, pools: pools}
}

// getBytes returns a pooled byte buffer of length n.
func getBytes(n int) *qScratch[uint8] { return getScratchOf[uint8](&bytePools, n) }

// getInt32s returns a pooled int32 buffer of length n.
func getInt32s(n int) *qScratch[int32] { return getScratchOf[int32](&int32Pools, n) }

// putScratch returns s to its pool; the caller must not use it afterwards.
func putScratch[T any](s *qScratch[T]) {
	if s != nil && s.class >= 0 {
		s.pools[s.class].Put(s)
	}
}
