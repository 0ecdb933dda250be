//go:build !amd64 || noasm

package quant

var elementwiseVariant = "go"

// elementwiseVariants lists the elementwise kernel sets this build can run.
func elementwiseVariants() []string { return []string{"go"} }

func (k *qadd) add(a, b, y []uint8) { k.addGo(a, b, y) }

func (k *qmul) mulRun(a, b, y []uint8) { k.mulRunGo(a, b, y) }

func maxBytes(dst []uint8, srcs [][]uint8, signed bool) { maxBytesGo(dst, srcs, signed) }

func quantizePlane(x []float32, c *quantizeConsts, y []uint8) { quantizePlaneGo(x, c, y) }

func lookupBytes(t *[256]uint8, x, y []uint8) { lookupBytesGo(t, x, y) }

func colSums(x []uint8, rows, stride int, sums []int32, signed bool) {
	colSumsGo(x, rows, stride, sums, signed)
}

func (k *qmul) mulChannels(a, b []uint8, bf []float32, y []uint8) { k.mulChannelsGo(a, bf, y) }
