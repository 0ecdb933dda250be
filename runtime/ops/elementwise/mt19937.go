package elementwise

// mt19937 is the Mersenne Twister as numpy's legacy RandomState uses it. Training-mode
// Dropout with a seed draws its mask from it exactly as the ONNX reference does
// (np.random.seed(seed); np.random.uniform(0, 1, shape) >= ratio), so a seeded Dropout
// reproduces the backend tests' expected outputs.
type mt19937 struct {
	state [624]uint32
	index int
}

func newMT19937(seed uint32) *mt19937 {
	m := &mt19937{index: 624}
	m.state[0] = seed
	for i := 1; i < 624; i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return m
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

// float64 is numpy's random_sample: 53 random bits from two draws.
func (m *mt19937) float64() float64 {
	a, b := m.next()>>5, m.next()>>6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}
