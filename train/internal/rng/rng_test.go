package rng

import "testing"

// The values pin the functions: train/torchref/onnx_torch.py computes the same ones, and a
// change here must be made there too.
func TestFixedValues(t *testing.T) {
	if got := Mix(1, 2, 3); got != 0x48cf5028b6df10db {
		t.Errorf("Mix(1, 2, 3) = %#x", got)
	}
	p := Perm(42, 10)
	seen := map[int]bool{}
	for _, v := range p {
		seen[v] = true
	}
	if len(seen) != 10 {
		t.Errorf("Perm(42, 10) = %v is not a permutation", p)
	}
	if f := Float(^uint64(0)); f >= 1 || f < 0.999 {
		t.Errorf("Float(max) = %v", f)
	}
}
