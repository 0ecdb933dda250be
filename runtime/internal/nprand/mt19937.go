package nprand

import "math"

// MT19937 is the Mersenne Twister with numpy's legacy seeding. It is not safe for
// concurrent use; kernels make one per Run.
type MT19937 struct {
	state [624]uint32
	index int
}

// New seeds like numpy's RandomState(seed) for an integer seed (init_genrand).
func New(seed uint32) *MT19937 {
	m := &MT19937{index: 624}
	m.state[0] = seed
	for i := 1; i < 624; i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return m
}

// Uint32 returns the next 32 random bits.
func (m *MT19937) Uint32() uint32 {
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

// Float64 is numpy's random_sample: 53 random bits from two draws, in [0, 1).
func (m *MT19937) Float64() float64 {
	a, b := m.Uint32()>>5, m.Uint32()>>6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}

// Binomial1 is numpy's legacy binomial(1, p) (legacy_random_binomial_original with the
// inversion algorithm, which numpy uses whenever n·min(p, 1-p) <= 30, always so for
// n = 1). Unlike numpy's newer Generator it draws even for p = 0.
func (m *MT19937) Binomial1(p float64) int64 {
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
	u := m.Float64()
	for u > px {
		x++
		if x > bound {
			x, px = 0, qn
			u = m.Float64()
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
