//go:build !amd64 || noasm

package linalg

// qKernels lists the micro-kernels this build can run: only the portable one.
func qKernels() []*qKernel { return []*qKernel{qKernelGo} }

// bestQKernel picks the kernel to pack B for.
func bestQKernel(saturates bool) *qKernel { return qKernelGo }

func (q *QRequant) row(c []int32, y []uint8) { q.requantGo(c, q.scale, y) }

var useRequant = "go"

// requantVariants lists the requantization routines this build can run.
func requantVariants() []string { return []string{"go"} }
