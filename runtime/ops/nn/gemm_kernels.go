package nn

// microKernelImpl describes one micro-kernel with its tile, for tests and benchmarks that run
// every implementation the machine supports.
type microKernelImpl struct {
	name   string
	mr, nr int
	fn     func(kc int, alpha float32, a, b, c []float32, ldc int)
}

// useMicroKernel installs k and returns a function restoring the previous kernel. Packed
// constants made under one kernel must not be used under another (their panel height
// differs), so callers switch only around fresh products.
func useMicroKernel(k microKernelImpl) (restore func()) {
	mr, nr, fn := gemmMR, gemmNR, microKernel
	gemmMR, gemmNR, microKernel = k.mr, k.nr, k.fn
	return func() { gemmMR, gemmNR, microKernel = mr, nr, fn }
}
