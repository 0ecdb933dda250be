//go:build !amd64 || noasm

package linalg

// tileKernels lists the tile kernels this build can run: only the portable one.
func tileKernels() []*tileKernel { return []*tileKernel{goTileKernel} }
