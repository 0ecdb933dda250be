//go:build !amd64 || noasm

package linalg

// microKernels lists the micro-kernels this build can run: only the portable one.
func microKernels() []*microKernel { return []*microKernel{goKernel} }
