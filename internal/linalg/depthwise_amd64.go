//go:build amd64 && !noasm

package linalg

import "golang.org/x/sys/cpu"

//go:generate go run depthwise_gen.go

//go:noescape
func depthwiseAVX512(a *dwArgs)

//go:noescape
func depthwiseAVX2(a *dwArgs)

//go:noescape
func depthwiseS1AVX512_3(a *dwArgs)

//go:noescape
func depthwiseS1AVX512_5(a *dwArgs)

//go:noescape
func depthwiseS1AVX512_7(a *dwArgs)

func depthwiseS1AVX512(kw int) func(*dwArgs) {
	switch kw {
	case 3:
		return depthwiseS1AVX512_3
	case 5:
		return depthwiseS1AVX512_5
	case 7:
		return depthwiseS1AVX512_7
	}
	return nil
}

func init() {
	switch {
	case cpu.X86.HasAVX512F:
		depthwiseImpl = depthwiseAsm(depthwiseAVX512)
		depthwiseS1Impl = depthwiseS1AVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		depthwiseImpl = depthwiseAsm(depthwiseAVX2)
	}
}

// depthwiseImpls lists the depthwise row implementations this machine runs, for tests.
func depthwiseImpls() map[string]depthwiseFunc {
	m := map[string]depthwiseFunc{"go": depthwiseGo}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		m["avx2"] = depthwiseAsm(depthwiseAVX2)
	}
	if cpu.X86.HasAVX512F {
		m["avx512"] = depthwiseAsm(depthwiseAVX512)
	}
	return m
}
