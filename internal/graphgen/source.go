package graphgen

import (
	"encoding/binary"
	"math/rand/v2"
)

// Source hands out decisions from a byte string; past its end every decision is 0, so a
// short input still builds a (small) graph and the same bytes always build the same one.
type Source struct {
	data []byte
	pos  int
}

// NewSource returns a Source reading data.
func NewSource(data []byte) *Source { return &Source{data: data} }

// SeededSource returns a Source of n pseudo-random bytes from seed, for tests that draw
// many graphs without a fuzzer.
func SeededSource(seed uint64, n int) *Source {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	data := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], r.Uint64())
		copy(data[i:], b[:])
	}
	return NewSource(data)
}

func (s *Source) byte() byte {
	if s.pos >= len(s.data) {
		return 0
	}
	b := s.data[s.pos]
	s.pos++
	return b
}

// Intn returns a decision in [0, n); n must be in [1, 65536].
func (s *Source) Intn(n int) int {
	if n <= 1 {
		return 0
	}
	v := int(s.byte())
	if n > 256 {
		v = v<<8 | int(s.byte())
	}
	return v % n
}

// Range returns a decision in [lo, hi].
func (s *Source) Range(lo, hi int) int { return lo + s.Intn(hi-lo+1) }

// Bool returns a decision that is true about one time in n.
func (s *Source) Bool(n int) bool { return s.Intn(n) == 0 }

// Float returns a value in [-scale, scale) with 1/128 steps of scale, so that values are
// exactly representable and sums of a few of them are exact.
func (s *Source) Float(scale float32) float32 {
	return (float32(s.Intn(256)) - 128) / 128 * scale
}

// Exhausted reports whether every byte has been used.
func (s *Source) Exhausted() bool { return s.pos >= len(s.data) }

// Bytes returns the bytes not yet used.
func (s *Source) Bytes() []byte {
	if s.pos >= len(s.data) {
		return nil
	}
	return s.data[s.pos:]
}
