//go:build amd64 && !noasm

package nn

import "golang.org/x/sys/cpu"

// sgemmKernel6x16 adds alpha·(a-panel × b-panel) to the 6×16 tile of C at c (row stride
// ldc elements): for each p < kc, a holds the 6 values of column p of the A panel and b
// the 16 values of row p of the B panel. The reference loop is
//
//	for p := 0; p < kc; p++ {
//		for r := 0; r < 6; r++ {
//			for j := 0; j < 16; j++ {
//				acc[r][j] += a[6*p+r] * b[16*p+j]
//			}
//		}
//	}
//	c[r*ldc+j] += alpha * acc[r][j]
//
//go:noescape
func sgemmKernel6x16(kc int, alpha float32, a, b, c *float32, ldc int)

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		gemmMR, gemmNR = 6, 16
		microKernel = kernel6x16
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

// gemmKernels lists the micro-kernels this machine can run, for tests that compare each
// with the reference loop.
func microKernels() []microKernelImpl {
	ks := []microKernelImpl{{"go3x4", 3, 4, kernel3x4}}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, microKernelImpl{"avx2fma6x16", 6, 16, kernel6x16})
	}
	return ks
}
