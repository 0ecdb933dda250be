//go:build amd64 && !noasm

package linalg

import "golang.org/x/sys/cpu"

//go:noescape
func depthwiseAVX512(a *dwArgs)

func init() {
	if cpu.X86.HasAVX512F {
		depthwiseImpl = depthwiseAsm(depthwiseAVX512)
	}
}

// depthwiseImpls lists the depthwise row implementations this machine runs, for tests.
func depthwiseImpls() map[string]depthwiseFunc {
	m := map[string]depthwiseFunc{"go": depthwiseGo}
	if cpu.X86.HasAVX512F {
		m["avx512"] = depthwiseAsm(depthwiseAVX512)
	}
	return m
}
