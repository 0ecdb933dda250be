//go:build amd64 && !noasm

package linalg

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// TestDispatchPicksWidest checks that start-up dispatch chose the widest kernels this CPU
// runs, so that a machine with AVX2/FMA (and no AVX-512) never falls back to the Go loops
// unnoticed, and logs the choice.
func TestDispatchPicksWidest(t *testing.T) {
	avx512 := cpu.X86.HasAVX512F
	avx2 := cpu.X86.HasAVX2 && cpu.X86.HasFMA
	want := func(what, got string, expect string) {
		t.Helper()
		t.Logf("%s: %s", what, got)
		if got != expect {
			t.Errorf("%s kernel %q, want %q on this CPU (AVX-512 %v, AVX2+FMA %v)", what, got, expect, avx512, avx2)
		}
	}
	widest := "go"
	switch {
	case avx512:
		widest = "avx512"
	case avx2:
		widest = "avx2"
	}
	want("sgemm tile", defaultTileKernel.name, widest)
	impls := vecImpls()
	want("vector routines", impls[len(impls)-1].name, widest)
	if avx2 && !avx512 {
		if _, ok := depthwiseImpls()["avx2"]; !ok {
			t.Error("depthwise: no AVX2 row kernel")
		}
		// The general row kernel in use computes the same row as the AVX2 one.
		if depthwiseS1Impl(3) != nil {
			t.Error("depthwise: an AVX-512 unit-stride kernel chosen without AVX-512")
		}
	}
	qwant := "go"
	switch {
	case hasVNNI512:
		qwant = "avx512vnni"
	case hasAVXVNNI:
		qwant = "avxvnni"
	case hasAVX2:
		qwant = "avx2"
	}
	want("u8s8 GEMM", bestQKernel(false).name, qwant)
	if hasAVX2 && !hasVNNI512 && !hasAVXVNNI {
		want("u8s8 GEMM, full-range weights", bestQKernel(true).name, "avx2wide")
	}
	rq := "go"
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL:
		rq = "avx512"
	case hasAVX2:
		rq = "avx2"
	}
	want("requantization", useRequant, rq)
}
