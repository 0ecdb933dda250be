//go:build !amd64 || noasm

package nn

// gemmKernels lists the micro-kernels this build can run: only the portable one.
func microKernels() []microKernelImpl {
	return []microKernelImpl{{"go3x4", 3, 4, kernel3x4}}
}
