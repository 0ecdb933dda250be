//go:build amd64 && !noasm

package quant

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// TestDispatchPicksWidest checks that the depthwise and elementwise kernels in use are the
// widest this CPU runs (AVX2 on a machine without AVX-512), not the Go loops.
func TestDispatchPicksWidest(t *testing.T) {
	dw, ew := "go", "go"
	switch {
	case hasAVX512BW:
		dw = "avx512"
	case cpu.X86.HasAVX2:
		dw = "avx2"
	}
	switch {
	case hasAVX512Elementwise:
		ew = "avx512"
	case cpu.X86.HasAVX2:
		ew = "avx2"
	}
	t.Logf("depthwise %s, elementwise %s", dwVariant, elementwiseVariant)
	if dwVariant != dw || elementwiseVariant != ew {
		t.Errorf("depthwise %q, elementwise %q: want %q and %q on this CPU", dwVariant, elementwiseVariant, dw, ew)
	}
}
