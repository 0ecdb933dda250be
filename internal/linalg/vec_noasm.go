//go:build !amd64 || noasm

package linalg

type vecImpl struct {
	name                     string
	sigmoid, silu, hardSwish func([]float32)
	clamp                    func([]float32, float32, float32)
	addTo, maxTo, mulTo      func(dst, src []float32)
}

func vecImpls() []vecImpl {
	return []vecImpl{{"go", sigmoidGo, siluGo, hardSwishGo, clampGo, addToGo, maxToGo, mulToGo}}
}

func depthwiseImpls() map[string]func(y []float32, x []float32, xOff, xstep int, taps []int, w []float32, wstride int, bias []float32, ow, c int, z []float32, clamp bool, lo, hi float32) {
	return map[string]func(y []float32, x []float32, xOff, xstep int, taps []int, w []float32, wstride int, bias []float32, ow, c int, z []float32, clamp bool, lo, hi float32){"go": depthwiseGo}
}
