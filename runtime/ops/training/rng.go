package training

import (
	crand "crypto/rand"
	"encoding/binary"
	"math"
)

// mt19937 is the Mersenne Twister as numpy's legacy RandomState uses it, so that a seeded
// random operator draws exactly what the ONNX reference implementation
// (np.random.RandomState(seed)) draws. (runtime/ops/elementwise has the same generator for
// Dropout; the families are kept independent of each other.)
type mt19937 struct {
	state [624]uint32
	index int
}

// newMT19937 seeds like numpy's RandomState(seed) for an integer seed (init_genrand).
func newMT19937(seed uint32) *mt19937 {
	m := &mt19937{index: 624}
	m.state[0] = seed
	for i := 1; i < 624; i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return m
}

// newRNG returns the generator for a seed attribute (numpy truncates it to an integer),
// or a randomly seeded one when the node has no seed.
func newRNG(seed float32, hasSeed bool) *mt19937 {
	if hasSeed {
		return newMT19937(uint32(int64(seed)))
	}
	var b [4]byte
	if _, err := crand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; fall back to a fixed seed
		// rather than panic.
		return newMT19937(5489)
	}
	return newMT19937(binary.LittleEndian.Uint32(b[:]))
}

func (m *mt19937) next() uint32 {
	if m.index >= 624 {
		for i := 0; i < 624; i++ {
			y := m.state[i]&0x80000000 | m.state[(i+1)%624]&0x7fffffff
			v := m.state[(i+397)%624] ^ y>>1
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			m.state[i] = v
		}
		m.index = 0
	}
	y := m.state[m.index]
	m.index++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// float64 is numpy's random_sample: 53 random bits from two draws, in [0, 1).
func (m *mt19937) float64() float64 {
	a, b := m.next()>>5, m.next()>>6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}

// binomial1 is numpy's legacy binomial(1, p) (legacy_random_binomial_original with the
// inversion algorithm, which numpy uses whenever n·min(p, 1-p) <= 30, always so for
// n = 1). Unlike numpy's newer Generator it draws even for p = 0.
func (m *mt19937) binomial1(p float64) int64 {
	flip := p > 0.5
	if flip {
		p = 1 - p
	}
	const n = 1
	q := 1 - p
	qn := math.Exp(n * math.Log(q))
	np := n * p
	bound := int64(math.Min(n, np+10*math.Sqrt(np*q+1)))
	x := int64(0)
	px := qn
	u := m.float64()
	for u > px {
		x++
		if x > bound {
			x, px = 0, qn
			u = m.float64()
		} else {
			u -= px
			px = (float64(n-x+1) * p * px) / (float64(x) * q)
		}
	}
	if flip {
		return n - x
	}
	return x
}
