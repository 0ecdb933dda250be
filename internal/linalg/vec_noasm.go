//go:build !amd64 || noasm

package linalg

type vecImpl struct {
	name                           string
	sigmoid, silu, hardSwish, gelu func([]float32)
	clamp                          func([]float32, float32, float32)
	addTo, maxTo, mulTo            func(dst, src []float32)
	addScalar, mulScalar           func(dst, a []float32, s float32)
	sum, max                       func([]float32) float32
	dot                            func(x, y []float32) float32
	exp                            func([]float32)
	addScaled                      func(dst, a []float32, s float32)
	addScaled4                     func(dst, b []float32, ldb int, s *[4]float32)
}

func vecImpls() []vecImpl {
	return []vecImpl{{"go", sigmoidGo, siluGo, hardSwishGo, geluGo, clampGo, addToGo, maxToGo, mulToGo,
		addScalarGo, mulScalarGo, sumGo, maxGo, dotGo, expGo, addScaledGo, addScaled4Go}}
}

func depthwiseImpls() map[string]depthwiseFunc {
	return map[string]depthwiseFunc{"go": depthwiseGo}
}
