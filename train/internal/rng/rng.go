// Package rng is the counter-based randomness of whittle's training: every random draw
// (a dropout mask element, a shuffle swap, a crop offset) is a hash of the run's seed and
// of coordinates that name the draw (epoch, row, step, element), never the next value of a
// stream. A draw therefore depends neither on the order work is done in, nor on the thread
// count, nor on whether the run was resumed from a checkpoint. train/torchref/onnx_torch.py
// implements the same functions for the PyTorch reference runs.
package rng

// Mix hashes words into one 64-bit value (a splitmix64 step per word).
func Mix(words ...uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, w := range words {
		h = Splitmix(h ^ w)
	}
	return h
}

// Splitmix is splitmix64's output function applied to x + the golden-ratio increment.
func Splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Float turns a hash into a float64 in [0, 1) (its top 53 bits).
func Float(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// Intn turns a hash into an integer in [0, n) (by its top bits, n much smaller than 2^64).
func Intn(h uint64, n int) int { return int(Float(h) * float64(n)) }

// Perm returns a permutation of [0, n) drawn by Fisher–Yates from seed: swap i with
// Intn(Mix(seed, i), i+1), for i from n−1 down to 1.
func Perm(seed uint64, n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := Intn(Mix(seed, uint64(i)), i+1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
