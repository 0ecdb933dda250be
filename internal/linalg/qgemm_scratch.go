package linalg

import (
	"math/bits"
	"sync"
)

// Integer kernels need temporaries on every call (initial accumulator values, im2col rows,
// int32 tiles before requantization). They come from power-of-two size classes, one
// sync.Pool per class and element type, so steady-state runs allocate nothing and
// concurrent calls never share a buffer.
const qScratchMaxShift = 28

// Scratch is a pooled buffer; Buf has the requested length and undefined contents.
type Scratch[T any] struct {
	Buf   []T
	class int // pool index, or -1 when not pooled
	pool  *ScratchPool[T]
}

// ScratchPool hands out Scratch buffers of one element type.
type ScratchPool[T any] struct {
	classes [qScratchMaxShift + 1]sync.Pool
}

// Get returns a buffer of n elements with undefined contents.
func (p *ScratchPool[T]) Get(n int) *Scratch[T] {
	cls := max(bits.Len(uint(max(n, 1)-1)), 6)
	if cls > qScratchMaxShift {
		return &Scratch[T]{Buf: make([]T, n), class: -1}
	}
	if s, ok := p.classes[cls].Get().(*Scratch[T]); ok {
		s.Buf = s.Buf[:n]
		return s
	}
	return &Scratch[T]{Buf: make([]T, n, 1<<cls), class: cls, pool: p}
}

// Release returns the buffer to its pool; the caller must not use s afterwards.
func (s *Scratch[T]) Release() {
	if s == nil || s.class < 0 {
		return
	}
	s.pool.classes[s.class].Put(s)
}

var (
	byteScratch  ScratchPool[uint8]
	int32Scratch ScratchPool[int32]
)

// GetBytes returns a pooled byte buffer of n elements with undefined contents.
func GetBytes(n int) *Scratch[uint8] { return byteScratch.Get(n) }

// GetInt32s returns a pooled int32 buffer of n elements with undefined contents.
func GetInt32s(n int) *Scratch[int32] { return int32Scratch.Get(n) }
