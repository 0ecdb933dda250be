//go:build amd64 && !noasm

package linalg

import "golang.org/x/sys/cpu"

// sgemmKernel6x16 adds alpha·(a-panel × b-panel) to the 6×16 tile of C at c (row stride
// ldc elements), as microKernel describes with mr = 6 and nr = 16.
//
//go:noescape
func sgemmKernel6x16(kc int, alpha float32, a, b, c *float32, ldc int)

var avx2Kernel = &microKernel{"avx2fma6x16", 6, 16, kernel6x16}

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		defaultKernel = avx2Kernel
	}
}

// kernel6x16 checks the bounds the assembly relies on and calls it.
func kernel6x16(kc int, alpha float32, a, b, c []float32, ldc int) {
	if kc <= 0 {
		return
	}
	_ = a[6*kc-1]
	_ = b[16*kc-1]
	_ = c[5*ldc+15]
	sgemmKernel6x16(kc, alpha, &a[0], &b[0], &c[0], ldc)
}

// microKernels lists the micro-kernels this machine can run, for tests that compare each
// with the reference loop.
func microKernels() []*microKernel {
	ks := []*microKernel{goKernel}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	return ks
}
